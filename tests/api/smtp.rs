//! A small SMTP server for the tests: it accepts every message and keeps it, and can be
//! stopped and started again on the same port, as a mail server that goes down would.

use std::sync::{Arc, Mutex};

use actix_web::rt::net::TcpListener;
use actix_web::rt::task::JoinHandle;
use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One message as received: its recipients and its raw data.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The Subject header, with its encoded words decoded.
    pub fn subject(&self) -> String {
        let mut lines = self
            .data
            .lines()
            .skip_while(|l| !l.to_ascii_lowercase().starts_with("subject:"));
        let mut raw = lines
            .next()
            .unwrap_or("")
            .trim_start_matches(|c| c != ':')
            .trim_start_matches(':')
            .to_string();
        for cont in lines.take_while(|l| l.starts_with(' ') || l.starts_with('\t')) {
            raw.push_str(cont);
        }
        let mut out = String::new();
        for word in raw.split_whitespace() {
            let lower = word.to_ascii_lowercase();
            if let Some(b64) = lower
                .strip_prefix("=?utf-8?b?")
                .and_then(|_| word.get(10..word.len().saturating_sub(2)))
            {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_default();
                out.push_str(&String::from_utf8_lossy(&bytes));
            } else {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(word);
            }
        }
        out
    }
}

pub struct SmtpSink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl SmtpSink {
    pub async fn start(port: u16, received: Arc<Mutex<Vec<Received>>>) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("sink binds");
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (inner_tasks, inner_received) = (tasks.clone(), received.clone());
        let accept = actix_web::rt::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let received = inner_received.clone();
                inner_tasks
                    .lock()
                    .unwrap()
                    .push(actix_web::rt::spawn(session(stream, received)));
            }
        });
        tasks.lock().unwrap().push(accept);
        SmtpSink {
            port,
            received,
            tasks,
        }
    }

    /// Closes the port and every open session.
    pub fn stop(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn session(stream: actix_web::rt::net::TcpStream, received: Arc<Mutex<Vec<Received>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
    let mut to = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250 sink\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(
                line[8..]
                    .trim()
                    .trim_matches(|c| c == '<' || c == '>')
                    .to_string(),
            );
            b"250 OK\r\n"
        } else if upper.starts_with("DATA") {
            let _ = write.write_all(b"354 go ahead\r\n").await;
            let mut data = String::new();
            let mut ended = false;
            while let Ok(Some(l)) = lines.next_line().await {
                if l == "." {
                    ended = true;
                    break;
                }
                data.push_str(&l);
                data.push('\n');
            }
            // A message cut off before its final "." (the sender died or hung up) was never
            // accepted, as a real server would not accept it: nothing is kept of it.
            if !ended {
                return;
            }
            received.lock().unwrap().push(Received {
                to: std::mem::take(&mut to),
                data,
            });
            b"250 OK queued\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// Talks to the sink: `lines`, then hangs up (what the sink answered is read and dropped).
async fn send_lines(port: u16, lines: &[&str]) {
    use tokio::io::AsyncReadExt;
    let mut stream = actix_web::rt::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    for line in lines {
        stream.write_all(line.as_bytes()).await.expect("writes");
        stream.write_all(b"\r\n").await.expect("writes");
    }
    stream.shutdown().await.expect("hangs up");
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
}

/// The sink keeps a message only when its data ended with the final ".", as a mail server
/// accepts one: a sender that dies in the middle of a message has not sent it.
#[actix_web::test]
async fn the_sink_keeps_a_message_only_when_its_data_was_ended() {
    let sink = SmtpSink::start(0, Arc::default()).await;
    let opening = [
        "EHLO test",
        "MAIL FROM:<a@test>",
        "RCPT TO:<b@test>",
        "DATA",
    ];
    let cut_off = [
        &opening[..],
        &["Subject: cut off", "Message-ID: <delivery-7.x>"],
    ]
    .concat();
    send_lines(sink.port, &cut_off).await;
    assert!(sink.messages().is_empty(), "a message cut off was kept");
    let whole = [&opening[..], &["Subject: whole", "", "body", ".", "QUIT"]].concat();
    send_lines(sink.port, &whole).await;
    let kept = sink.messages();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].to, vec!["b@test".to_string()]);
    assert_eq!(kept[0].subject(), "whole");
    sink.stop();
}
