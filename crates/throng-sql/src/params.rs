//! Parameters written as text (rendered templates) sent as the statement's own types, and
//! values read back as text whatever their type.
use bytes::BytesMut;
use std::error::Error;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

type BoxError = Box<dyn Error + Sync + Send>;

/// A text parameter, encoded as the type the server asks for.
#[derive(Debug)]
pub(crate) struct TextParam<'a>(pub &'a str);

impl ToSql for TextParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let s = self.0.trim();
        match *ty {
            Type::BOOL => matches!(s, "true" | "t" | "1" | "yes" | "on").to_sql(ty, out),
            Type::INT2 => s.parse::<i16>()?.to_sql(ty, out),
            Type::INT4 => s.parse::<i32>()?.to_sql(ty, out),
            Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
            Type::OID => s.parse::<u32>()?.to_sql(ty, out),
            Type::FLOAT4 => s.parse::<f32>()?.to_sql(ty, out),
            Type::FLOAT8 => s.parse::<f64>()?.to_sql(ty, out),
            Type::UUID => {
                let hex: String = s.chars().filter(|c| *c != '-').collect();
                if hex.len() != 32 {
                    return Err("not a uuid".into());
                }
                for i in 0..16 {
                    out.extend_from_slice(&[u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)?]);
                }
                Ok(IsNull::No)
            }
            Type::JSONB => {
                out.extend_from_slice(&[1]);
                out.extend_from_slice(self.0.as_bytes());
                Ok(IsNull::No)
            }
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON | Type::UNKNOWN => {
                out.extend_from_slice(self.0.as_bytes());
                Ok(IsNull::No)
            }
            _ => Err(format!(
                "a text parameter cannot be sent as {}: cast it in SQL ($1::text::{})",
                ty.name(),
                ty.name()
            )
            .into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A column's value as text (numbers, booleans, text and uuids; `NULL` as empty; other
/// types as `<type>`).
pub(crate) struct TextValue(pub String);

impl<'a> FromSql<'a> for TextValue {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<TextValue, BoxError> {
        let s = match *ty {
            Type::BOOL => bool::from_sql(ty, raw)?.to_string(),
            Type::INT2 => i16::from_sql(ty, raw)?.to_string(),
            Type::INT4 => i32::from_sql(ty, raw)?.to_string(),
            Type::INT8 => i64::from_sql(ty, raw)?.to_string(),
            Type::OID => u32::from_sql(ty, raw)?.to_string(),
            Type::FLOAT4 => f32::from_sql(ty, raw)?.to_string(),
            Type::FLOAT8 => f64::from_sql(ty, raw)?.to_string(),
            Type::UUID if raw.len() == 16 => {
                let h: String = raw.iter().map(|b| format!("{b:02x}")).collect();
                format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            }
            Type::JSONB => String::from_utf8_lossy(raw.get(1..).unwrap_or(&[])).into_owned(),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON | Type::UNKNOWN => {
                String::from_utf8_lossy(raw).into_owned()
            }
            _ => format!("<{}>", ty.name()),
        };
        Ok(TextValue(s))
    }

    fn from_sql_null(_: &Type) -> Result<TextValue, BoxError> {
        Ok(TextValue(String::new()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
