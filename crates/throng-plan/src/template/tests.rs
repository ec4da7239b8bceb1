use super::*;
use std::sync::atomic::AtomicU64;

type Parts = (
    BTreeMap<String, String>,
    Vec<(String, Vec<String>)>,
    Vec<String>,
);

fn scope_parts() -> Parts {
    let mut env = BTreeMap::new();
    env.insert("HOST".to_string(), "h".to_string());
    env.insert("JWT_SECRET".to_string(), "s3cret".to_string());
    (
        env,
        vec![(
            "users".into(),
            vec!["id".into(), "name".into(), "address.city".into()],
        )],
        vec!["token".into(), "vu.role".into(), "status".into()],
    )
}

/// Renders `t` for VU 3, iteration 9, with `vars` and one row of `users`.
fn render_with(t: &Template, vars: &[String], rng: &mut fastrand::Rng) -> String {
    let row = vec!["7".to_string(), "ann".to_string(), "Oslo".to_string()];
    let rows = [Some(row.as_slice())];
    let seq = AtomicU64::new(0);
    let mut cx = RenderCtx {
        vu: 3,
        iter: 9,
        scenario: "s",
        rows: &rows,
        vars,
        rng,
        seq: &seq,
        row: None,
        now: Some(jiff::Timestamp::from_second(1_700_000_000).expect("ts")),
    };
    let mut out = String::new();
    t.try_render(&mut cx, &mut out).expect("renders");
    out
}

fn compile(text: &str) -> Result<Template, Vec<TemplateError>> {
    let (env, data, vars) = scope_parts();
    Template::compile(text, &Scope::new(&env, &data, &vars))
}

fn render(text: &str) -> String {
    let t = compile(text).expect("compiles");
    let vars = ["T".to_string(), "admin".to_string(), "200".to_string()];
    render_with(&t, &vars, &mut fastrand::Rng::with_seed(1))
}

#[test]
fn compiles_and_renders() {
    assert_eq!(
        render("{{env.HOST}}/u/{{ users.name }}/{{vu}}-{{iter}}/{{token}}/{{scenario}}/{{users.address.city}}"),
        "h/u/ann/3-9/T/s/Oslo"
    );
}

#[test]
fn simple_names_stay_simple_parts() {
    let t = compile("{{vu}}{{users.id}}{{token}}{{vu.role}}").expect("compiles");
    assert!(t.parts.iter().all(|p| matches!(p.seg, Seg::Name(_))));
}

#[test]
fn operators_and_truthiness() {
    assert_eq!(render("{{ vu.role == 'admin' }}"), "true");
    assert_eq!(render("{{ status != 200 }}"), "false");
    assert_eq!(render("{{ status >= 200 && status < 300 }}"), "true");
    assert_eq!(render("{{ users.id > 10 or not (vu == 3) }}"), "false");
    assert_eq!(render("{{ '10' > 9 }}"), "true");
    assert_eq!(render("{{ !false and 2.5 <= 2.5 }}"), "true");
    let vars = ["T".to_string(), "user".to_string(), "500".to_string()];
    let mut rng = fastrand::Rng::with_seed(1);
    let seq = AtomicU64::new(0);
    let mut cx = RenderCtx {
        vu: 1,
        iter: 0,
        scenario: "s",
        rows: &[],
        vars: &vars,
        rng: &mut rng,
        seq: &seq,
        row: None,
        now: None,
    };
    for (text, want) in [
        ("{{ vu.role == 'admin' }}", false),
        ("{{ status != 200 }}", true),
        ("{{status}}", true),
        ("{{ env.MISSING | default('') }}", false),
        ("0", false),
        (" false ", false),
        ("null", false),
        ("", false),
        ("x{{vu}}", true),
    ] {
        let t = compile(text).expect("compiles");
        assert_eq!(t.render_truthy(&mut cx), want, "{text}");
    }
}

#[test]
fn filters() {
    assert_eq!(render("{{ env.TIMEOUT | default('5m') }}"), "5m");
    assert_eq!(render("{{ env.HOST | default('5m') }}"), "h");
    assert_eq!(render("{{ '{\"a\": [1]}' | json }}"), "{\"a\":[1]}");
    assert!(compile("{{ '{' | json }}").expect_err("bad json")[0]
        .message
        .contains("not valid JSON"));
    assert!(compile("{{ x | upper }}").expect_err("unknown")[0]
        .message
        .contains("unknown filter"));
}

#[test]
fn typed_json_values() {
    let (env, data, vars) = scope_parts();
    let scope = Scope::new(&env, &data, &vars);
    let mut t = Template::default();
    t.append_raw("[");
    for (i, s) in [
        "{{random_int(5,5)}}",
        "{{random_int(5,5) | string}}",
        "{{vu}}",
        "{{users.name}}",
        "n{{vu}}",
        "{{ vu == 3 }}",
        "{{ {a: 1, b: 'x'} }}",
        "{{ env.HOST }}",
        "{{ 2.5 }}",
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            t.append_raw(",");
        }
        t.append_json_value(s, &scope).expect("compiles");
    }
    t.append_raw("]");
    let out = render_with(&t, &[], &mut fastrand::Rng::with_seed(1));
    assert_eq!(out, r#"[5,"5",3,"ann","n3",true,{"a":1,"b":"x"},"h",2.5]"#);
}

#[test]
fn signing_and_encoding() {
    assert_eq!(render("{{ base64('hi?') }}"), "aGk/");
    assert_eq!(render("{{ base64url('hi?') }}"), "aGk_");
    assert_eq!(render("{{ url_encode('a b&c') }}"), "a%20b%26c");
    assert_eq!(
        render("{{ sha256('abc') }}"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // RFC 4231 test case 2
    assert_eq!(
        render("{{ hmac_sha256('Jefe', 'what do ya want for nothing?') }}"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    let tok = render("{{ jwt_hs256(env.JWT_SECRET, {sub: users.id, exp: now_plus('1h')}) }}");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.validate_exp = false;
    let data = jsonwebtoken::decode::<serde_json::Value>(
        &tok,
        &jsonwebtoken::DecodingKey::from_secret(b"s3cret"),
        &v,
    )
    .expect("valid signature");
    assert_eq!(data.claims["sub"], "7");
    assert_eq!(data.claims["exp"], 1_700_003_600);
    assert_eq!(data.claims["iat"], 1_700_000_000);
}

#[test]
fn time_functions_use_the_clock() {
    assert_eq!(render("{{ now_plus('-1m') }}"), "1699999940");
    assert_eq!(render("{{ date('%Y-%m-%d') }}"), "2023-11-14");
    assert_eq!(render("{{ timestamp_ms }}"), "1700000000000");
    assert_eq!(render("{{ date('%H:%M', 60) }}"), "00:01");
}

#[test]
fn fakers_repeat_with_a_seed_and_differ_across_streams() {
    let t = compile(
        "{{fake.name}}|{{fake.email}}|{{fake.company}}|{{fake.sentence(4)}}|{{fake.ipv4}}|{{fake.uuid}}|{{fake.date('2020-01-01','2020-12-31')}}|{{fake.datetime('2024-01-01T00:00:00Z','2024-01-02T00:00:00Z')}}",
    )
    .expect("compiles");
    let a = render_with(&t, &[], &mut fastrand::Rng::with_seed(7));
    let b = render_with(&t, &[], &mut fastrand::Rng::with_seed(7));
    let c = render_with(&t, &[], &mut fastrand::Rng::with_seed(8));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let f: Vec<&str> = a.split('|').collect();
    assert!(f[1].contains('@'), "{a}");
    assert_eq!(f[3].split_whitespace().count(), 4, "{a}");
    assert_eq!(f[4].split('.').count(), 4, "{a}");
    assert_eq!(f[5].len(), 36);
    assert!(f[6].starts_with("2020-"), "{a}");
    assert!(f[7].starts_with("2024-01-0"), "{a}");
}

#[test]
fn random_functions_stay_in_bounds() {
    let t = compile(
        "{{random_int(1,3)}}|{{random_string(5)}}|{{random_choice('a','b')}}|{{uuid}}|{{seq}}",
    )
    .expect("compile");
    let mut rng = fastrand::Rng::with_seed(2);
    let seq = AtomicU64::new(0);
    for i in 0..50 {
        let mut cx = RenderCtx {
            vu: 1,
            iter: 0,
            scenario: "s",
            rows: &[],
            vars: &[],
            rng: &mut rng,
            seq: &seq,
            row: None,
            now: None,
        };
        let s = t.render_string(&mut cx);
        let parts: Vec<&str> = s.split('|').collect();
        let n: i64 = parts[0].parse().expect("int");
        assert!((1..=3).contains(&n));
        assert_eq!(parts[1].len(), 5);
        assert!(parts[2] == "a" || parts[2] == "b");
        assert_eq!(parts[3].len(), 36);
        assert_eq!(parts[3].as_bytes()[14], b'4');
        assert_eq!(parts[4], i.to_string());
    }
}

#[test]
fn errors_say_what_is_wrong_with_offsets() {
    let errs = compile(
        "ab{{nope}}cd{{env.MISSING}}{{users.x}}{{random_int(3,1)}}{{nosuch(1)}}{{ jwt_hs256(env.NOPE, {}) }}{{ a b }}{{jwt_rs256('k.pem', {})}}{{",
    )
    .expect_err("errors");
    let m: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(errs.len(), 9, "{m:?}");
    assert_eq!(errs[0].offset, 2);
    assert!(m[0].contains("unknown name `nope`"));
    assert!(m[1].contains("`MISSING` is not set"));
    assert!(m[2].contains("no field `x`"));
    assert!(m[3].contains("upper bound"));
    assert!(m[4].contains("unknown function `nosuch`"));
    assert!(m[5].contains("`NOPE` is not set"));
    assert!(m[6].contains("unexpected `b`"));
    assert!(m[7].contains("files cannot be read"));
    assert!(m[8].contains("unclosed"));
}

#[test]
fn rs256_needs_a_key() {
    let (env, data, vars) = scope_parts();
    let read = |p: &str| -> Result<String, String> {
        match p {
            "cert.pem" => {
                Ok("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into())
            }
            "junk.pem" => Ok("hello".into()),
            _ => Err("not found".into()),
        }
    };
    let scope = Scope {
        read_file: Some(&read),
        ..Scope::new(&env, &data, &vars)
    };
    for (f, want) in [
        ("cert.pem", "not an RSA private key"),
        ("junk.pem", "not an RSA private key"),
        ("gone.pem", "cannot read gone.pem"),
    ] {
        let e = Template::compile(&format!("{{{{jwt_rs256('{f}', {{}})}}}}"), &scope)
            .expect_err("bad key");
        assert!(e[0].message.contains(want), "{f}: {}", e[0].message);
    }
}

#[test]
fn json_escaping_applies_to_values() {
    let (env, data, vars) = scope_parts();
    let scope = Scope::new(&env, &data, &vars);
    let mut t = Template::default();
    t.append_raw("{\"m\":\"");
    t.append("say \"{{token}}\" {{ token | string }}", &scope, true)
        .expect("ok");
    t.append_raw("\"}");
    let s = render_with(&t, &["a\"b".to_string()], &mut fastrand::Rng::with_seed(1));
    let v: serde_json::Value = serde_json::from_str(&s).expect("valid json");
    assert_eq!(v["m"], "say \"a\"b\" a\"b");
}

#[test]
fn maps_with_braces_close_at_the_right_place() {
    assert_eq!(render("[{{ {a: {b: '}}'}} }}]"), r#"[{"a":{"b":"}}"}}]"#);
}
