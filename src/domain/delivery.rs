//! How a notification leaves the service besides the in-app feed.

use crate::domain::issue::text_enum;

text_enum! {
    /// A delivery's way out.
    Channel {
        Mail = "email",
        Webhook = "webhook",
    }
}
