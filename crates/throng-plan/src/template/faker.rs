//! Realistic values (`fake.name`, `fake.email`, ...) from the `fake` crate, drawn from the
//! VU's own seeded generator so a seed repeats them.
use super::value::Val;
use super::RenderCtx;
use fake::faker::address::en::CityName;
use fake::faker::company::en::CompanyName;
use fake::faker::internet::en::{IPv4, SafeEmail};
use fake::faker::lorem::en::{Sentence, Word};
use fake::faker::name::en::{FirstName, LastName, Name};
use fake::Fake;

/// One kind of fake value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Faker {
    Name,
    FirstName,
    LastName,
    Email,
    Company,
    City,
    Word,
    Sentence,
    Ipv4,
    Uuid,
    Date,
    DateTime,
}

/// fastrand's generator as a `rand` generator, which `fake` draws from.
struct Rng<'a>(&'a mut fastrand::Rng);

impl rand_core::RngCore for Rng<'_> {
    fn next_u32(&mut self) -> u32 {
        self.0.u32(..)
    }

    fn next_u64(&mut self) -> u64 {
        self.0.u64(..)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.0.fill(dst)
    }
}

impl Faker {
    /// The faker named `fake.NAME`.
    pub(super) fn from_name(name: &str) -> Option<Faker> {
        Some(match name {
            "name" => Faker::Name,
            "first_name" => Faker::FirstName,
            "last_name" => Faker::LastName,
            "email" => Faker::Email,
            "company" => Faker::Company,
            "city" => Faker::City,
            "word" => Faker::Word,
            "sentence" => Faker::Sentence,
            "ipv4" => Faker::Ipv4,
            "uuid" => Faker::Uuid,
            "date" => Faker::Date,
            "datetime" => Faker::DateTime,
            _ => return None,
        })
    }

    /// Checks the arguments (those known at compile time are `Some`).
    pub(super) fn check(self, args: &[Option<&Val>]) -> Result<(), String> {
        let usage = match self {
            Faker::Sentence => {
                if args.len() > 1 {
                    return Err(
                        "fake.sentence takes at most one word count, e.g. fake.sentence(8)".into(),
                    );
                }
                if let Some(Some(n)) = args.first() {
                    words(n)?;
                }
                return Ok(());
            }
            Faker::Date => "fake.date('2020-01-01', '2024-12-31')",
            Faker::DateTime => "fake.datetime('2024-01-01T00:00:00Z', '2024-12-31T23:59:59Z')",
            _ if args.is_empty() => return Ok(()),
            other => return Err(format!("fake.{other:?} takes no arguments").to_lowercase()),
        };
        if args.len() != 2 {
            return Err(format!("takes a start and an end, e.g. {usage}"));
        }
        if let [Some(a), Some(b)] = args {
            self.range(a, b)?;
        }
        Ok(())
    }

    /// The bounds of a date range, as seconds (datetime) or days (date) since the epoch.
    fn range(self, a: &Val, b: &Val) -> Result<(i64, i64), String> {
        let parse = |v: &Val| -> Result<i64, String> {
            let s = v.text();
            if self == Faker::Date {
                let d: jiff::civil::Date = s
                    .parse()
                    .map_err(|e| format!("fake.date: `{s}` is not a date like 2024-01-31 ({e})"))?;
                Ok(d.since(jiff::civil::date(1970, 1, 1))
                    .map_err(|e| e.to_string())?
                    .get_days() as i64)
            } else {
                let t: jiff::Timestamp = s.parse().map_err(|e| {
                    format!("fake.datetime: `{s}` is not a time like 2024-01-31T00:00:00Z ({e})")
                })?;
                Ok(t.as_second())
            }
        };
        let (x, y) = (parse(a)?, parse(b)?);
        if y < x {
            return Err(format!(
                "the range {} .. {} ends before it starts",
                a.text(),
                b.text()
            ));
        }
        Ok((x, y))
    }

    /// A value, drawn from the VU's generator.
    pub(super) fn value(self, args: &[Val], cx: &mut RenderCtx<'_>) -> Result<Val, String> {
        let rng = &mut Rng(cx.rng);
        Ok(Val::Str(match self {
            Faker::Name => Name().fake_with_rng(rng),
            Faker::FirstName => FirstName().fake_with_rng(rng),
            Faker::LastName => LastName().fake_with_rng(rng),
            Faker::Email => SafeEmail().fake_with_rng(rng),
            Faker::Company => CompanyName().fake_with_rng(rng),
            Faker::City => CityName().fake_with_rng(rng),
            Faker::Word => Word().fake_with_rng(rng),
            Faker::Sentence => {
                let n = match args.first() {
                    Some(v) => words(v)?,
                    None => 6,
                };
                Sentence(n..n + 1).fake_with_rng(rng)
            }
            Faker::Ipv4 => IPv4().fake_with_rng(rng),
            Faker::Uuid => super::eval::uuid(rng.0),
            Faker::Date | Faker::DateTime => {
                let (a, b) = match args {
                    [a, b] => self.range(a, b)?,
                    _ => return Err("takes a start and an end".into()),
                };
                let x = rng.0.i64(a..=b);
                if self == Faker::Date {
                    jiff::civil::date(1970, 1, 1)
                        .checked_add(jiff::Span::new().days(x))
                        .map_err(|e| e.to_string())?
                        .to_string()
                } else {
                    jiff::Timestamp::from_second(x)
                        .map_err(|e| e.to_string())?
                        .to_string()
                }
            }
        }))
    }
}

fn words(v: &Val) -> Result<usize, String> {
    match v.int() {
        Some(n @ 1..=1000) => Ok(n as usize),
        _ => Err(format!(
            "fake.sentence: the word count must be 1..1000, not `{}`",
            v.text()
        )),
    }
}
