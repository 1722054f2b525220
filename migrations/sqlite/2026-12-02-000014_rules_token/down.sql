DROP TABLE rules_token;
