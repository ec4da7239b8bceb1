//! `k6/data`'s `SharedArray`: the rows live once, in Rust ([`crate::shared::Shared`]'s
//! `arrays`), as JSON text; the first VU to make an array runs its function, the others
//! find it made, and each VU's array is a proxy that parses a row when it is read.
use crate::shared::Shared;
use rquickjs::{Ctx, Exception, Function, Object, Value};
use std::sync::Arc;

/// Adds `__n.sharedArray(name, fn)` (makes the array once; answers its length) and
/// `__n.sharedRow(name, i)` (row `i`, parsed) to the natives.
pub(crate) fn register<'js>(
    ctx: &Ctx<'js>,
    n: &Object<'js>,
    shared: &Arc<Shared>,
) -> rquickjs::Result<()> {
    let sh = shared.clone();
    n.set(
        "sharedArray",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, name: String, make: Function<'js>| {
                let poisoned = || Exception::throw_message(&ctx, "SharedArray: a VU panicked");
                // held while the first VU runs the function: the others wait for its rows
                let mut arrays = sh.arrays.lock().map_err(|_| poisoned())?;
                if let Some(rows) = arrays.get(&name) {
                    return Ok(rows.len());
                }
                let made: Value = make.call(())?;
                let Some(list) = made.as_array() else {
                    return Err(Exception::throw_type(
                        &ctx,
                        "SharedArray: the function must return an array",
                    ));
                };
                let mut rows = Vec::with_capacity(list.len());
                for v in list.iter::<Value>() {
                    let text = ctx
                        .json_stringify(v?)?
                        .map(|s| s.to_string())
                        .transpose()?
                        .unwrap_or_else(|| "null".into());
                    rows.push(text.into_boxed_str());
                }
                let len = rows.len();
                arrays.insert(name, rows.into());
                Ok(len)
            },
        )?,
    )?;
    let sh = shared.clone();
    n.set(
        "sharedRow",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, name: String, i: usize| {
            let row = {
                let arrays = sh
                    .arrays
                    .lock()
                    .map_err(|_| Exception::throw_message(&ctx, "SharedArray: a VU panicked"))?;
                arrays.get(&name).and_then(|r| r.get(i).cloned())
            };
            match row {
                Some(text) => ctx.json_parse(text.as_bytes().to_vec()),
                None => Ok(Value::new_undefined(ctx.clone())),
            }
        })?,
    )?;
    Ok(())
}
