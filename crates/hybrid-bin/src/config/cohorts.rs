//! The optional `[[cohorts]]` array of tables: strategy variants, each on its own capital, that
//! replace the six default cohorts of spec §6.2 when present.
//!
//! Unlike the flat keys of [`super::schema::KEYS`], a cohort is a table in an array, so it is
//! checked here field by field; every problem names its path (`cohorts[2].min_confidence`,
//! counting from 0 in file order). There are no environment overrides for cohorts.

use std::{collections::BTreeSet, str::FromStr};

use hybrid_cohorts::{CohortConfig, CohortDefinition, CoinCategory, RiskTolerance};
use rust_decimal::Decimal;
use toml::Value;

use super::schema;

/// The keys of one `[[cohorts]]` table and what each means; documented in
/// `config/example.toml` and `docs/CONFIGURATION.md` (a test checks both).
pub(crate) const COHORT_KEYS: &[(&str, &str)] = &[
    ("name", "unique name (letters, digits, `_`, `-`); required"),
    ("description", "shown in reports; default empty"),
    ("capital_usdt", "starting capital in USDT, > 0; default 1000"),
    (
        "risk_tolerance",
        "`low`, `medium` or `high`: decides the coin categories when `allowed_categories` is empty; default medium",
    ),
    ("grid_range_pct", "grid range around the price in percent, > 0 and at most 50; default 5"),
    ("min_confidence", "lowest scanner confidence of a coin the cohort trades, 0 to 1; default 0.5"),
    ("min_fear_greed", "lowest Fear & Greed index (0-100) at which it trades; default 0"),
    ("max_fear_greed", "highest Fear & Greed index (0-100) at which it trades, >= min_fear_greed; default 100"),
    ("use_playbook", "whether the learning playbook may advise it; default true"),
    ("frozen", "a frozen cohort is never tuned (the baseline); default false"),
    (
        "allowed_categories",
        "categories that replace the risk mapping, from LARGE_CAP, MID_CAP, L2, DEFI, AI, GAMING, MEME; default [] (use risk_tolerance)",
    ),
    ("active", "an inactive cohort is stored but never trades; default true"),
];

/// One problem: the path of the value (`cohorts[1].name`) and what is wrong with it.
pub(crate) type CohortProblem = (String, String);

/// Parses the `cohorts` value of the file into definitions, or every problem found.
pub(crate) fn parse(value: &Value) -> Result<Vec<CohortDefinition>, Vec<CohortProblem>> {
    let Some(items) = value.as_array() else {
        return Err(vec![(
            "cohorts".to_owned(),
            "must be an array of tables, each written `[[cohorts]]`".to_owned(),
        )]);
    };
    let mut problems = Vec::new();
    if items.is_empty() {
        problems.push((
            "cohorts".to_owned(),
            "at least one cohort is needed (leave `cohorts` out for the six defaults)".to_owned(),
        ));
    }
    let mut cohorts = Vec::new();
    let mut names = BTreeSet::new();
    for (index, item) in items.iter().enumerate() {
        let mut fields = Fields {
            prefix: format!("cohorts[{index}]"),
            problems: &mut problems,
        };
        let Some(definition) = fields.cohort(item) else {
            continue;
        };
        if !names.insert(definition.name.clone()) {
            problems.push((
                format!("cohorts[{index}].name"),
                format!("{:?} is used by an earlier cohort", definition.name),
            ));
        }
        cohorts.push(definition);
    }
    if problems.is_empty() {
        Ok(cohorts)
    } else {
        Err(problems)
    }
}

/// The checks of one table, collecting problems under `prefix`.
struct Fields<'a> {
    prefix: String,
    problems: &'a mut Vec<CohortProblem>,
}

impl Fields<'_> {
    fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems
            .push((format!("{}.{field}", self.prefix), message.into()));
    }

    /// The definition, or `None` after recording why it is invalid.
    fn cohort(&mut self, item: &Value) -> Option<CohortDefinition> {
        let Some(table) = item.as_table() else {
            let prefix = self.prefix.clone();
            self.problems
                .push((prefix, "must be a table written `[[cohorts]]`".to_owned()));
            return None;
        };
        let before = self.problems.len();
        for key in table.keys() {
            if !COHORT_KEYS.iter().any(|(name, _)| name == key) {
                let names = COHORT_KEYS.iter().map(|(name, _)| *name);
                let hint = schema::suggest(key, names.clone()).map_or_else(
                    || format!("allowed keys: {}", names.collect::<Vec<_>>().join(", ")),
                    |s| format!("did you mean `{s}`?"),
                );
                self.problem(key, format!("unknown key: {hint}"));
            }
        }
        let defaults = CohortConfig::default();
        let name = self.name(table.get("name"));
        let description = self.text("description", table.get("description"));
        let capital = self.decimal(
            "capital_usdt",
            table.get("capital_usdt"),
            Decimal::from(1000),
            (Decimal::ZERO, true),
            Decimal::from(100_000_000),
        );
        let risk_tolerance = self.risk(table.get("risk_tolerance"));
        let grid_range_pct = self.decimal(
            "grid_range_pct",
            table.get("grid_range_pct"),
            defaults.grid_range_pct,
            (Decimal::ZERO, true),
            Decimal::from(50),
        );
        let min_confidence = self.decimal(
            "min_confidence",
            table.get("min_confidence"),
            defaults.min_confidence,
            (Decimal::ZERO, false),
            Decimal::ONE,
        );
        let min_fear_greed = self.fear_greed(
            "min_fear_greed",
            table.get("min_fear_greed"),
            defaults.min_fear_greed,
        );
        let max_fear_greed = self.fear_greed(
            "max_fear_greed",
            table.get("max_fear_greed"),
            defaults.max_fear_greed,
        );
        if min_fear_greed > max_fear_greed {
            self.problem(
                "max_fear_greed",
                format!("{max_fear_greed} is below min_fear_greed = {min_fear_greed}"),
            );
        }
        let use_playbook = self.boolean(
            "use_playbook",
            table.get("use_playbook"),
            defaults.use_playbook,
        );
        let frozen = self.boolean("frozen", table.get("frozen"), defaults.frozen);
        let active = self.boolean("active", table.get("active"), true);
        let allowed_categories = self.categories(table.get("allowed_categories"));
        if self.problems.len() > before {
            return None;
        }
        let config = CohortConfig {
            grid_range_pct,
            min_confidence,
            min_fear_greed,
            max_fear_greed,
            use_playbook,
            risk_tolerance,
            frozen,
            allowed_categories,
        };
        let mut definition = CohortDefinition::new(&name, &description, config);
        definition.starting_capital = capital;
        definition.current_capital = capital;
        definition.is_active = active;
        Some(definition)
    }

    fn name(&mut self, value: Option<&Value>) -> String {
        let Some(value) = value else {
            self.problem("name", "missing: every cohort needs a unique name");
            return String::new();
        };
        let Some(name) = value.as_str() else {
            self.problem(
                "name",
                format!("expected a quoted name, found {}", kind(value)),
            );
            return String::new();
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            self.problem(
                "name",
                format!("{name:?} is not a name: use 1 to 64 letters, digits, `_` or `-`"),
            );
        }
        name.to_owned()
    }

    fn text(&mut self, field: &str, value: Option<&Value>) -> String {
        match value {
            None => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => {
                self.problem(
                    field,
                    format!("expected quoted text, found {}", kind(other)),
                );
                String::new()
            }
        }
    }

    fn boolean(&mut self, field: &str, value: Option<&Value>, default: bool) -> bool {
        match value {
            None => default,
            Some(Value::Boolean(b)) => *b,
            Some(other) => {
                self.problem(
                    field,
                    format!("expected true or false, found {}", kind(other)),
                );
                default
            }
        }
    }

    /// A decimal written as a number or quoted text, above `min` (strictly when the flag is
    /// set) and at most `max`.
    fn decimal(
        &mut self,
        field: &str,
        value: Option<&Value>,
        default: Decimal,
        (min, min_exclusive): (Decimal, bool),
        max: Decimal,
    ) -> Decimal {
        let Some(value) = value else {
            return default;
        };
        let parsed = match value {
            Value::Integer(n) => Some(Decimal::from(*n)),
            // f64's Display is the shortest text that reads back as the same float.
            Value::Float(x) => Decimal::from_str(&x.to_string()).ok(),
            Value::String(s) => Decimal::from_str(s.trim()).ok(),
            _ => None,
        };
        let Some(number) = parsed else {
            self.problem(
                field,
                format!("{} is not a decimal number", super::load::show(value)),
            );
            return default;
        };
        let shown = number.normalize();
        if number > max {
            self.problem(field, format!("{shown} is above {max}"));
        } else if min_exclusive && number <= min {
            self.problem(field, format!("{shown} must be greater than {min}"));
        } else if number < min {
            self.problem(field, format!("{shown} is below {min}"));
        }
        number
    }

    fn fear_greed(&mut self, field: &str, value: Option<&Value>, default: u8) -> u8 {
        match value {
            None => default,
            Some(Value::Integer(n)) => {
                u8::try_from(*n)
                    .ok()
                    .filter(|n| *n <= 100)
                    .unwrap_or_else(|| {
                        self.problem(
                            field,
                            format!("{n} is outside 0..100 (the Fear & Greed index)"),
                        );
                        default
                    })
            }
            Some(other) => {
                self.problem(
                    field,
                    format!("expected a whole number 0..100, found {}", kind(other)),
                );
                default
            }
        }
    }

    fn risk(&mut self, value: Option<&Value>) -> RiskTolerance {
        match value.map(|v| (v, v.as_str())) {
            None => RiskTolerance::default(),
            Some((_, Some("low"))) => RiskTolerance::Low,
            Some((_, Some("medium"))) => RiskTolerance::Medium,
            Some((_, Some("high"))) => RiskTolerance::High,
            Some((v, _)) => {
                self.problem(
                    "risk_tolerance",
                    format!("{} is not one of low, medium, high", super::load::show(v)),
                );
                RiskTolerance::default()
            }
        }
    }

    fn categories(&mut self, value: Option<&Value>) -> Option<Vec<CoinCategory>> {
        let value = value?;
        let Some(items) = value.as_array() else {
            self.problem(
                "allowed_categories",
                format!(
                    "expected a list such as [\"DEFI\", \"AI\"], found {}",
                    kind(value)
                ),
            );
            return None;
        };
        let mut categories = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let category = item.as_str().and_then(|s| {
                serde_json::from_value::<CoinCategory>(serde_json::Value::String(s.to_owned())).ok()
            });
            match category {
                Some(c) if !categories.contains(&c) => categories.push(c),
                Some(_) => self.problem(
                    &format!("allowed_categories[{index}]"),
                    format!("{} is listed twice", super::load::show(item)),
                ),
                None => self.problem(
                    &format!("allowed_categories[{index}]"),
                    format!(
                        "{} is not a category: expected one of {}",
                        super::load::show(item),
                        category_names().join(", ")
                    ),
                ),
            }
        }
        (!categories.is_empty()).then_some(categories)
    }
}

/// The category names as written in the file.
pub(crate) fn category_names() -> Vec<String> {
    CoinCategory::ALL
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "a whole number",
        Value::Float(_) => "a decimal number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

/// One line per cohort for `check-config`.
pub(crate) fn describe(cohort: &CohortDefinition) -> String {
    let categories: Vec<String> = cohort
        .effective_categories()
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let risk = match cohort.config.risk_tolerance {
        RiskTolerance::Low => "low",
        RiskTolerance::Medium => "medium",
        RiskTolerance::High => "high",
    };
    let mut flags = Vec::new();
    if cohort.config.frozen {
        flags.push("frozen");
    }
    if !cohort.config.use_playbook {
        flags.push("no playbook");
    }
    if !cohort.is_active {
        flags.push("inactive");
    }
    format!(
        "{:<16} capital {} USDT, risk {risk}, grid ±{} %, min confidence {}, fear & greed {}..{}, categories {}{}",
        cohort.name,
        cohort.starting_capital.normalize(),
        cohort.config.grid_range_pct.normalize(),
        cohort.config.min_confidence.normalize(),
        cohort.config.min_fear_greed,
        cohort.config.max_fear_greed,
        categories.join(","),
        if flags.is_empty() {
            String::new()
        } else {
            format!(" ({})", flags.join(", "))
        }
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn cohorts(text: &str) -> Result<Vec<CohortDefinition>, Vec<CohortProblem>> {
        let table: toml::Table = toml::from_str(text).unwrap();
        parse(&table["cohorts"])
    }

    fn messages(problems: &[CohortProblem]) -> Vec<String> {
        problems.iter().map(|(p, m)| format!("{p}: {m}")).collect()
    }

    #[test]
    fn a_full_cohort_is_read_with_every_field() {
        let parsed = cohorts(
            r#"
            [[cohorts]]
            name = "steady"
            description = "tight grids"
            capital_usdt = 250.5
            risk_tolerance = "low"
            grid_range_pct = "2.5"
            min_confidence = 0.7
            min_fear_greed = 10
            max_fear_greed = 60
            use_playbook = false
            frozen = true
            active = false
            allowed_categories = ["DEFI", "AI"]

            [[cohorts]]
            name = "plain"
            "#,
        )
        .unwrap();
        let steady = &parsed[0];
        assert_eq!(steady.name, "steady");
        assert_eq!(steady.description, "tight grids");
        assert_eq!(steady.starting_capital, Decimal::new(2505, 1));
        assert_eq!(steady.current_capital, Decimal::new(2505, 1));
        assert_eq!(steady.config.risk_tolerance, RiskTolerance::Low);
        assert_eq!(steady.config.grid_range_pct, Decimal::new(25, 1));
        assert_eq!(steady.config.min_confidence, Decimal::new(7, 1));
        assert_eq!(
            (steady.config.min_fear_greed, steady.config.max_fear_greed),
            (10, 60)
        );
        assert!(!steady.config.use_playbook && steady.config.frozen && !steady.is_active);
        assert_eq!(
            steady.config.allowed_categories,
            Some(vec![CoinCategory::Defi, CoinCategory::Ai])
        );
        let plain = &parsed[1];
        assert_eq!(plain.config, CohortConfig::default());
        assert_eq!(plain.starting_capital, Decimal::from(1000));
        assert!(plain.is_active);
        for cohort in &parsed {
            cohort.validate().unwrap();
        }
    }

    #[test]
    fn every_bad_value_is_reported_with_its_path() {
        let problems = cohorts(
            r#"
            [[cohorts]]
            name = "a"
            [[cohorts]]
            name = "b"
            [[cohorts]]
            name = "c"
            min_confidence = 1.5
            capital_usdt = 0
            risk_tolerance = "reckless"
            min_fear_greed = 70
            max_fear_greed = 30
            allowed_categories = ["DEFI", "NFT"]
            grid_rang_pct = 3
            [[cohorts]]
            name = "a"
            [[cohorts]]
            description = "no name"
            frozen = "yes"
            "#,
        )
        .unwrap_err();
        let text = messages(&problems);
        let expected = [
            "cohorts[2].min_confidence: 1.5 is above 1",
            "cohorts[2].capital_usdt: 0 must be greater than 0",
            "cohorts[2].risk_tolerance: \"reckless\" is not one of low, medium, high",
            "cohorts[2].max_fear_greed: 30 is below min_fear_greed = 70",
            "cohorts[2].allowed_categories[1]: \"NFT\" is not a category",
            "cohorts[2].grid_rang_pct: unknown key: did you mean `grid_range_pct`?",
            "cohorts[3].name: \"a\" is used by an earlier cohort",
            "cohorts[4].name: missing",
            "cohorts[4].frozen: expected true or false, found a string",
        ];
        for wanted in expected {
            assert!(
                text.iter().any(|t| t.starts_with(wanted)),
                "{wanted} not in {text:#?}"
            );
        }
        assert_eq!(text.len(), expected.len(), "{text:#?}");
    }

    #[test]
    fn a_table_instead_of_an_array_and_an_empty_array_are_refused() {
        let problems = cohorts("[cohorts]\nname = \"x\"\n").unwrap_err();
        assert!(
            messages(&problems)[0].contains("[[cohorts]]"),
            "{problems:?}"
        );
        let problems = cohorts("cohorts = []\n").unwrap_err();
        assert!(messages(&problems)[0].contains("at least one cohort"));
        let problems = cohorts("[[cohorts]]\nname = \"two words\"\n").unwrap_err();
        assert!(messages(&problems)[0].starts_with("cohorts[0].name: \"two words\" is not a name"));
    }

    #[test]
    fn example_file_and_configuration_doc_cover_every_cohort_key() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let example = std::fs::read_to_string(root.join("config/example.toml")).unwrap();
        let doc = std::fs::read_to_string(root.join("docs/CONFIGURATION.md")).unwrap();
        assert!(example.contains("# [[cohorts]]") && doc.contains("## `[[cohorts]]`"));
        // The commented example, uncommented, is itself a valid cohort list.
        let uncommented: String = example
            .lines()
            .skip_while(|l| *l != "# [[cohorts]]")
            .map(|l| l.strip_prefix("# ").unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let parsed = cohorts(&uncommented).unwrap();
        assert_eq!(parsed.len(), 2);
        for (key, _) in COHORT_KEYS {
            assert!(
                example.contains(&format!("# {key} = ")),
                "config/example.toml lacks cohorts {key}"
            );
            assert!(
                doc.contains(&format!("`cohorts.{key}`")),
                "docs/CONFIGURATION.md lacks cohorts.{key}"
            );
        }
    }

    #[test]
    fn the_description_names_capital_categories_and_flags() {
        let cohort = &cohorts(
            "[[cohorts]]\nname = \"x\"\ncapital_usdt = 300\nrisk_tolerance = \"low\"\nfrozen = true\n",
        )
        .unwrap()[0];
        let line = describe(cohort);
        assert!(line.contains("capital 300 USDT"), "{line}");
        assert!(line.contains("categories LARGE_CAP,MID_CAP"), "{line}");
        assert!(line.contains("(frozen)"), "{line}");
    }
}
