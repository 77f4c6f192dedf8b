//! The one macro behind every enum with a fixed text spelling (sides, order types, statuses,
//! modes, regimes): the spelling method, `Display` and a `FromStr` whose error lists what is
//! allowed. Parsing is exact: `"grid"` is not `GRID`.

/// `text_enum!(Type, "what", method, Variant => "TEXT", ...)` implements `Type::method()`
/// returning the spelling, `Display` with it, and `FromStr` accepting exactly those spellings.
macro_rules! text_enum {
    ($ty:ty, $what:literal, $method:ident, $($variant:path => $text:literal),+ $(,)?) => {
        impl $ty {
            /// The exact spelling, as the exchange and the database write it.
            #[must_use]
            pub const fn $method(self) -> &'static str {
                match self { $($variant => $text),+ }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.$method())
            }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::error::CoreError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($variant),)+
                    _ => Err($crate::error::CoreError::InvalidValue {
                        what: $what,
                        value: s.to_owned(),
                        reason: concat!("expected one of", $(" ", $text),+),
                    }),
                }
            }
        }
    };
}

pub(crate) use text_enum;
