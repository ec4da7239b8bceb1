//! RS256 tokens from `jwt_rs256` verify with the public key; a file that is not a key is a
//! compile error at its place in the plan.
use std::path::{Path, PathBuf};
use throng_plan::{load_file, LoadOptions};

fn keys() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys")
}

fn plan_with(dir: &Path, pem: &str) -> Result<throng_plan::Plan, throng_plan::PlanErrors> {
    let yaml = format!(
        "scenarios:\n  s:\n    executor: shared-iterations\n    flow:\n      - get: http://127.0.0.1:9/\n        headers:\n          Authorization: \"Bearer {{{{jwt_rs256('{pem}', {{sub: vu, exp: now_plus('1h')}})}}}}\"\n"
    );
    let file = dir.join("rs256-plan.yaml");
    std::fs::write(&file, yaml).expect("write plan");
    load_file(&file, &LoadOptions::default())
}

#[test]
fn rs256_tokens_verify_with_the_public_key() {
    let plan = plan_with(&keys(), "test-only-rsa.pem").expect("loads");
    let throng_plan::Step::Request(r) = &plan.scenarios[0].flow[0] else {
        panic!("a request");
    };
    let tpl = &r
        .headers
        .iter()
        .find(|(k, _)| k == "Authorization")
        .expect("header")
        .1;
    let seq = std::sync::atomic::AtomicU64::new(0);
    let mut rng = fastrand::Rng::with_seed(1);
    let mut cx = throng_plan::RenderCtx {
        vu: 4,
        iter: 0,
        scenario: "s",
        rows: &[],
        vars: &[],
        rng: &mut rng,
        seq: &seq,
        row: None,
        now: None,
    };
    let header = tpl.render_string(&mut cx);
    let token = header.strip_prefix("Bearer ").expect("bearer");
    let public = std::fs::read(keys().join("test-only-rsa.pub.pem")).expect("public key");
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).expect("public key parses");
    let data = jsonwebtoken::decode::<serde_json::Value>(
        token,
        &key,
        &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256),
    )
    .expect("the signature verifies and exp is in the future");
    assert_eq!(data.claims["sub"], 4);
    assert_eq!(data.header.alg, jsonwebtoken::Algorithm::RS256);
    // another key does not verify it
    let other = std::fs::read(keys().join("test-only-rsa.pem")).expect("pem");
    assert!(jsonwebtoken::DecodingKey::from_rsa_pem(&other).is_ok());
    let mut tampered = token.to_string();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert!(jsonwebtoken::decode::<serde_json::Value>(
        &tampered,
        &key,
        &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256)
    )
    .is_err());
}

#[test]
fn a_pem_that_is_not_a_key_is_an_error_at_its_place() {
    let dir = std::env::temp_dir().join(format!("throng-rs256-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("cert.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    std::fs::copy(keys().join("test-only-rsa.pub.pem"), dir.join("public.pem")).expect("copy");
    for pem in ["cert.pem", "public.pem"] {
        let e = plan_with(&dir, pem)
            .expect_err("not a private key")
            .to_string();
        assert!(e.contains("rs256-plan.yaml:7:34:"), "{e}");
        assert!(e.contains(&format!("{pem} is not")), "{e}");
    }
    let e = plan_with(&dir, "missing.pem")
        .expect_err("no file")
        .to_string();
    assert!(e.contains("cannot read missing.pem"), "{e}");
}
