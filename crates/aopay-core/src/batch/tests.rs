use std::io::Cursor;

use super::*;

fn read(format: OrderFormat, text: &[u8]) -> Vec<Result<Order, RowError>> {
    OrderReader::new(Cursor::new(text.to_vec()), format).collect()
}

fn rule(r: &Result<Order, RowError>) -> (u64, String) {
    match r {
        Ok(o) => (o.line(), "ok".into()),
        Err(e) => (e.line, e.error.to_string()),
    }
}

#[test]
fn csv_orders_keep_their_lines_and_kinds() {
    let rows = read(
        OrderFormat::Csv,
        b"\xef\xbb\xbforder_id,kind,product_id,amount,customer_number,geocode,operator,number,reference_id\r\n\
          o-1,,518,10,9876543210,\"23.6,76.8\",,,\r\n\
          \r\n\
          o-2,do_recharge,,100,,,11,9999000011,\n",
    );
    assert_eq!(
        rows.len(),
        2,
        "{:?}",
        rows.iter().map(rule).collect::<Vec<_>>()
    );
    let a = rows[0].as_ref().unwrap();
    assert_eq!(
        (a.line(), a.order_id(), a.kind()),
        (2, "o-1", "mobile_recharge")
    );
    assert_eq!(a.amount, Some(Money::from_paise(1000)));
    assert_eq!(
        a.args.get("geocode"),
        Some(&ArgValue::Text("23.6,76.8".into()))
    );
    assert_eq!(
        a.args.get("idempotency_key"),
        Some(&ArgValue::Text("o-1".into()))
    );
    let b = rows[1].as_ref().unwrap();
    assert_eq!((b.line(), b.kind()), (4, "do_recharge"));
    // Debug names where the order is, never its customer number.
    assert!(!format!("{a:?}").contains("9876543210"));
}

#[test]
fn a_bad_row_is_its_own_error_and_the_rest_still_read() {
    let mut text = b"order_id,product_id,amount,customer_number\n".to_vec();
    text.extend_from_slice(b"a,518,10,9876543210\n");
    text.extend_from_slice(b"b,518,10\n"); // too few fields
    text.extend_from_slice(b"c,5x8,10,9876543210\n"); // not a number
    text.extend_from_slice(b"d,518,10,98765\xff3210\n"); // not UTF-8
    text.extend_from_slice(b",518,10,9876543210\n"); // no order id
    text.extend_from_slice(&vec![b'x'; MAX_LINE_BYTES + 10]);
    text.extend_from_slice(b"\ne,518,10,9876543210\n");
    // A quoted field holds line ends (RFC 4180): the record runs on to its
    // closing quote, and is one row (here one with too many fields).
    text.extend_from_slice(b"f,518,\"10,9876543210\n");
    text.extend_from_slice(b"\"g\",518,10,9876543210\n");
    text.extend_from_slice(b"h,518,10,9876543210");
    let rows: Vec<(u64, String)> = read(OrderFormat::Csv, &text).iter().map(rule).collect();
    let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8, 9, 11], "{rows:?}");
    assert_eq!(rows[0].1, "ok");
    assert!(
        rows[1].1.contains("has 3 fields where the header has 4"),
        "{rows:?}"
    );
    assert!(rows[2].1.contains("product_id"), "{rows:?}");
    assert!(rows[3].1.contains("not valid UTF-8"), "{rows:?}");
    assert!(rows[4].1.contains("order_id"), "{rows:?}");
    assert!(rows[5].1.contains("bytes long"), "{rows:?}");
    assert_eq!(rows[6].1, "ok");
    assert!(
        rows[7].1.contains("fields where the header has 4"),
        "{rows:?}"
    );
    assert_eq!(rows[8].1, "ok");
}

/// Every record is read, whatever ends its lines: CR (a spreadsheet's "CSV
/// (Macintosh)"), LF, CRLF, mixed; a quoted field holds CR, LF and quotes
/// and is never split into a second order.
#[test]
fn every_record_is_read_whatever_ends_its_lines() {
    let header = "order_id,product_id,amount,customer_number";
    for (text, expected) in [
        // CR only: every record, none dropped.
        (
            format!("{header}\ra1,518,10,9876543210\ra2,518,10,9876543211\r"),
            vec![(2, "a1"), (3, "a2")],
        ),
        // A bare CR inside a line ends the record there.
        (
            format!("{header}\na1,518,10,9876543210\ra2,518,10,9876543211\n"),
            vec![(2, "a1"), (3, "a2")],
        ),
        // CRLF, and a CRLF file without its last line end.
        (
            format!("{header}\r\na1,518,10,9876543210\r\na2,518,10,9876543211"),
            vec![(2, "a1"), (3, "a2")],
        ),
        // A quoted order id spanning lines is one order, its id whole.
        (
            format!("{header}\n\"q1\nq1b\",518,10,9876543210\nq2,518,10,9876543211\n"),
            vec![(2, "q1\nq1b"), (4, "q2")],
        ),
        // Quotes inside quotes, and a CRLF inside a quoted field.
        (
            format!("{header}\r\n\"x\"\"y\",518,10,9876543210\r\n\"z\r\nw\",518,10,9876543211\r\n"),
            vec![(2, "x\"y"), (3, "z\r\nw")],
        ),
    ] {
        let rows = read(OrderFormat::Csv, text.as_bytes());
        let got: Vec<(u64, String)> = rows
            .iter()
            .map(|r| match r {
                Ok(o) => (o.line(), o.order_id().to_owned()),
                Err(e) => (e.line, format!("error: {}", e.error)),
            })
            .collect();
        let want: Vec<(u64, String)> = expected
            .iter()
            .map(|(l, id)| (*l, (*id).to_owned()))
            .collect();
        assert_eq!(got, want, "{text:?}");
    }
}

/// Endless input (`/dev/zero`, a pipe that never ends a line) is one error
/// and the end of the reading, never a hang.
#[test]
fn endless_input_is_an_error_not_a_hang() {
    struct Zeros;
    impl std::io::Read for Zeros {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(0);
            Ok(buf.len())
        }
    }
    for format in [OrderFormat::Csv, OrderFormat::JsonLines] {
        let reader = OrderReader::new(std::io::BufReader::with_capacity(1 << 16, Zeros), format);
        let rows: Vec<_> = reader.with_skip_limit(8 * MAX_LINE_BYTES).collect();
        assert_eq!(rows.len(), 1, "{format:?}");
        let e = rows[0].as_ref().unwrap_err();
        assert!(e.error.to_string().contains("endless"), "{}", e.error);
    }
}

#[test]
fn a_header_without_order_id_or_with_an_unknown_column_reads_nothing() {
    for (header, says) in [
        ("product_id,amount,customer_number", "no order_id column"),
        ("order_id,product_id,amout,customer_number", "\"amout\""),
        ("order_id,amount,amount", "twice"),
        ("order_id,idempotency_key", "idempotency_key"),
    ] {
        let text = format!("{header}\n1,518,10,9876543210\n2,518,10,9876543210\n");
        let rows = read(OrderFormat::Csv, text.as_bytes());
        assert_eq!(rows.len(), 1, "{header}");
        let (line, msg) = rule(&rows[0]);
        assert_eq!(line, 1);
        assert!(msg.contains(says), "{header}: {msg}");
    }
}

#[test]
fn json_lines_take_json_types() {
    let rows = read(
        OrderFormat::JsonLines,
        br#"{"order_id": 17, "product_id": 518, "amount": "10", "customer_number": "9876543210"}
{"order_id": "x", "kind": "pay-bill", "bill": {"canumber": "1"}, "amount": 100}
{"order_id": "y", "kind": "browse_plans"}
{"order_id": "z", "colour": "red"}
[1, 2]
{"order_id": "w", "amount": 10.5}
"#,
    );
    let r: Vec<(u64, String)> = rows.iter().map(rule).collect();
    assert_eq!(r[0], (1, "ok".into()));
    let a = rows[0].as_ref().unwrap();
    assert_eq!(a.order_id(), "17");
    assert_eq!(a.amount, Some(Money::from_paise(1000)));
    assert_eq!(rows[1].as_ref().unwrap().kind(), "pay_bill");
    assert!(r[2].1.contains("is not a write"), "{r:?}");
    assert!(r[3].1.contains("takes no \"colour\""), "{r:?}");
    assert!(r[4].1.contains("not a JSON object"), "{r:?}");
    // A float amount is read as a float: the endpoint's rule refuses it
    // before sending (not here).
    assert_eq!(
        rows[5].as_ref().unwrap().args.get("amount"),
        Some(&ArgValue::Float(10.5))
    );
}

#[test]
fn the_same_fields_give_the_same_fingerprint_whatever_their_order() {
    let one = Order::new(
        1,
        "k",
        None,
        Lang::Rust,
        vec![
            ("amount".into(), ArgValue::Text("10".into())),
            ("product_id".into(), ArgValue::Int(518)),
        ],
    )
    .unwrap();
    let two = Order::new(
        9,
        "k",
        Some("mobile_recharge"),
        Lang::Rust,
        vec![
            ("product_id".into(), ArgValue::Int(518)),
            ("amount".into(), ArgValue::Text("10".into())),
        ],
    )
    .unwrap();
    let three = Order::new(
        9,
        "k",
        None,
        Lang::Rust,
        vec![("amount".into(), ArgValue::Text("11".into()))],
    )
    .unwrap();
    assert_eq!(one.fields, two.fields);
    assert_ne!(one.fields, three.fields);
}

#[test]
fn a_summary_adds_exact_amounts_and_knows_what_is_final() {
    let order = |id: &str| {
        Order::new(
            1,
            id,
            None,
            Lang::Rust,
            vec![("amount".into(), ArgValue::Text("0.10".into()))],
        )
        .unwrap()
    };
    let mut s = BatchSummary::default();
    for _ in 0..3 {
        s.add(&run::tests_result(
            &order("a"),
            Ok(serde_json::json!({"status": "SUCCESS", "is_final": true})),
        ));
    }
    assert_eq!(s.paid, Money::from_paise(30));
    assert!(s.all_final() && s.all_succeeded());
    s.add(&run::tests_result(
        &order("b"),
        Ok(serde_json::json!({"status": "PENDING", "is_final": false})),
    ));
    assert!(!s.all_final());
    assert_eq!(s.by_status["PENDING"], 1);
    assert_eq!(s.to_json_value()["paid"], "0.30");
}

/// A CSV report opened in a spreadsheet runs no formula, whether it came
/// from the input (an order id) or from the server (a reference, a txn id);
/// JSON Lines keep the text as it is.
#[test]
fn csv_cells_that_would_start_a_formula_read_as_text() {
    let order = Order::new(1, "=HYPERLINK(\"http://x\")", None, Lang::Rust, Vec::new()).unwrap();
    let r = run::tests_result(
        &order,
        Ok(serde_json::json!({
            "status": "SUCCESS", "is_final": true, "reference_id": "+1+cmd|' /C calc'!A0",
            "txn_id": "@SUM(1)", "operator_id": "-2+3",
        })),
    );
    let row = r.to_csv_row();
    let header = BatchResult::CSV_HEADER;
    let cell = |name: &str| &row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("order_id"), "'=HYPERLINK(\"http://x\")");
    assert_eq!(cell("reference_id"), "'+1+cmd|' /C calc'!A0");
    assert_eq!(cell("txn_id"), "'@SUM(1)");
    assert_eq!(cell("operator_id"), "'-2+3");
    assert_eq!(cell("status"), "SUCCESS");
    assert_eq!(r.to_json_value()["order_id"], "=HYPERLINK(\"http://x\")");
    for c in ["\tx", "\rx"] {
        assert!(spreadsheet_safe(c.to_owned()).starts_with('\''));
    }
}
