//! The sandbox's request handling, through its real HTTP/1.1 connection
//! code: any bytes either as a whole request, or as the JSON body of a
//! well-framed POST to one of the two endpoints (to reach the body checks
//! quickly). The server never panics, never hangs, and whatever it writes
//! is an HTTP/1.x answer.
#![no_main]

use std::sync::LazyLock;

use aopay_sandbox::fuzzing::Harness;
use libfuzzer_sys::fuzz_target;

static HARNESS: LazyLock<Harness> = LazyLock::new(|| Harness::new().expect("runtime"));

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let request = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let path = if mode & 2 == 0 { "MobileRecharge" } else { "RechargeStatus" };
        let mut r = format!(
            "POST /api/AOP/V2/{path} HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            rest.len()
        )
        .into_bytes();
        r.extend_from_slice(rest);
        r
    };
    let answer = HARNESS.handle_raw(&request);
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 ") || answer.starts_with(b"HTTP/1.0 "),
        "not an HTTP answer: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(64)])
    );
    if mode & 1 == 1 && !answer.is_empty() {
        // A framed request always gets a status line with a known code.
        let code = &answer[9..12];
        assert!(
            [&b"200"[..], b"400", b"401", b"413", b"429", b"500", b"502", b"503"].contains(&code),
            "unexpected status {:?}",
            String::from_utf8_lossy(code)
        );
    }
});
