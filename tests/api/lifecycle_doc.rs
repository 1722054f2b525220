//! `docs/lifecycle.md` shows the same table the service decides from.

use observer_desk::domain::lifecycle::markdown_table;

const START: &str = "<!-- table:start -->\n";
const END: &str = "<!-- table:end -->";

#[test]
fn the_lifecycle_doc_shows_the_state_machine_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/lifecycle.md");
    let doc = std::fs::read_to_string(path).expect("docs/lifecycle.md");
    let (head, rest) = doc.split_once(START).expect("table start marker");
    let (current, tail) = rest.split_once(END).expect("table end marker");
    let wanted = markdown_table();
    if std::env::var("OBSERVER_DESK_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(path, format!("{head}{START}{wanted}{END}{tail}")).expect("write doc");
        return;
    }
    assert_eq!(
        current, wanted,
        "docs/lifecycle.md is stale: run the tests with OBSERVER_DESK_UPDATE_DOCS=1"
    );
}
