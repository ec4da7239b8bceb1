//! `grpc:` steps without a `proto:`: their methods asked of the servers by reflection when
//! the run starts, once per target (one connection, one pool shared by every VU and step
//! calling it), before any load.
use std::collections::BTreeMap;
use std::time::Duration;
use throng_http::SharedConfig;
use throng_plan::{GrpcMethod, GrpcStep, Plan, ProtoCall, Step};

/// Longest reflection may take per target.
const REFLECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves the method of every `grpc:` step of `plan` that has no `proto:`; the error
/// names the step (`plan.yaml:12:7`), the target and what went wrong (a server without
/// reflection, an unknown service or method, listing what the server offers).
pub async fn discover_grpc_methods(plan: &mut Plan, http: &SharedConfig) -> Result<(), String> {
    let mut steps = Vec::new();
    for s in &mut plan.scenarios {
        grpc_steps(&mut s.flow, &mut steps);
        grpc_steps(&mut s.vu_init, &mut steps);
    }
    for f in [&mut plan.setup, &mut plan.teardown].into_iter().flatten() {
        grpc_steps(&mut f.steps, &mut steps);
    }
    // the services each target is asked for
    let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in &steps {
        if let GrpcMethod::Reflect {
            target, service, ..
        } = &g.method
        {
            let services = targets.entry(target.clone()).or_default();
            if !services.contains(service) {
                services.push(service.clone());
            }
        }
    }
    if targets.is_empty() {
        return Ok(());
    }
    let tls = http.tls_with_alpn(&[b"h2"]);
    let mut pools = BTreeMap::new();
    for (target, services) in targets {
        match throng_grpc::discover(&target, &tls, &services, REFLECT_TIMEOUT).await {
            Ok(pool) => {
                pools.insert(target, pool);
            }
            Err(e) => {
                let at = steps
                    .iter()
                    .find_map(|g| match &g.method {
                        GrpcMethod::Reflect { target: t, at, .. } if *t == target => {
                            Some(at.as_str())
                        }
                        _ => None,
                    })
                    .unwrap_or("");
                return Err(format!("{at}: grpc target `{target}`: {e}"));
            }
        }
    }
    for g in steps {
        let GrpcMethod::Reflect {
            target,
            service,
            method,
            at,
        } = &g.method
        else {
            continue;
        };
        let Some(svc) = pools
            .get(target)
            .and_then(|p| p.get_service_by_name(service))
        else {
            return Err(format!(
                "{at}: grpc target `{target}`: reflection gave no service `{service}`"
            ));
        };
        let Some(m) = svc.methods().find(|m| m.name() == method) else {
            let has: Vec<String> = svc.methods().map(|m| m.name().to_string()).collect();
            return Err(format!(
                "{at}: grpc target `{target}`: service `{service}` has no method `{method}` (it has: {})",
                has.join(", ")
            ));
        };
        if m.is_client_streaming() {
            return Err(format!(
                "{at}: `{service}/{method}` streams from the client: only unary and server-streaming calls are supported"
            ));
        }
        g.method = GrpcMethod::Known(m);
    }
    Ok(())
}

/// Every `grpc:` step in `steps`, nested ones included.
fn grpc_steps<'a>(steps: &'a mut [Step], out: &mut Vec<&'a mut GrpcStep>) {
    for s in steps {
        match s {
            Step::Proto(p) => {
                if let ProtoCall::Grpc(g) = &mut p.call {
                    out.push(g);
                }
            }
            Step::Group { steps, .. } | Step::Transaction { steps, .. } => grpc_steps(steps, out),
            Step::If { step, .. } => grpc_steps(std::slice::from_mut(step.as_mut()), out),
            Step::Choose { branches } => {
                for b in branches {
                    grpc_steps(&mut b.steps, out);
                }
            }
            Step::Repeat(r) => grpc_steps(&mut r.steps, out),
            Step::Request(_) | Step::Sleep { .. } => {}
        }
    }
}
