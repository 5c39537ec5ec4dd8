//! Groups and sampling rules, kept in `<data dir>/xray.json` and rewritten atomically (temporary
//! file, fsync, rename, fsync of the directory) after every change.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::error::{Result, XrayError};
use crate::filter;

/// Account and region of the ARNs waggle makes up (LocalStack's convention for the account).
pub(crate) const ARN_PREFIX: &str = "arn:aws:xray:us-east-1:000000000000";
/// The name of the rule that is always there.
pub(crate) const DEFAULT_RULE: &str = "Default";
/// The name of the group that is always there (every trace).
pub(crate) const DEFAULT_GROUP: &str = "Default";
/// X-Ray's limits.
const MAX_RULES: usize = 25;
const MAX_GROUPS: usize = 25;

/// A group as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GroupRecord {
    pub name: String,
    pub arn: String,
    pub filter_expression: Option<String>,
    pub insights_enabled: bool,
    pub notifications_enabled: bool,
}

impl GroupRecord {
    pub fn to_json(&self) -> Json {
        let mut group = Map::new();
        group.insert("GroupName".into(), Json::from(self.name.as_str()));
        group.insert("GroupARN".into(), Json::from(self.arn.as_str()));
        if let Some(filter) = &self.filter_expression {
            group.insert("FilterExpression".into(), Json::from(filter.as_str()));
        }
        group.insert(
            "InsightsConfiguration".into(),
            serde_json::json!({"InsightsEnabled": self.insights_enabled, "NotificationsEnabled": self.notifications_enabled}),
        );
        Json::Object(group)
    }
}

/// A sampling rule as stored: X-Ray's `SamplingRule` members, with its times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RuleRecord {
    /// The `SamplingRule` object, RuleName and RuleARN filled in.
    pub rule: Map<String, Json>,
    pub created_at: f64,
    pub modified_at: f64,
}

impl RuleRecord {
    pub fn name(&self) -> &str {
        self.rule.get("RuleName").and_then(Json::as_str).unwrap_or_default()
    }

    pub fn to_json(&self) -> Json {
        serde_json::json!({"SamplingRule": self.rule, "CreatedAt": self.created_at, "ModifiedAt": self.modified_at})
    }

    pub fn number(&self, key: &str) -> f64 {
        self.rule.get(key).and_then(Json::as_f64).unwrap_or(0.0)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    version: u32,
    groups: Vec<GroupRecord>,
    rules: Vec<RuleRecord>,
}

/// The groups and rules, in memory and (unless in-memory) on disk.
#[derive(Debug)]
pub(crate) struct XrayConfig {
    path: Option<PathBuf>,
    file: ConfigFile,
}

fn default_rule(now: f64) -> RuleRecord {
    let rule = serde_json::json!({
        "RuleName": DEFAULT_RULE, "RuleARN": format!("{ARN_PREFIX}:sampling-rule/{DEFAULT_RULE}"),
        "ResourceARN": "*", "Priority": 10000, "FixedRate": 0.05, "ReservoirSize": 1,
        "ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*",
        "Version": 1, "Attributes": {},
    });
    let Json::Object(rule) = rule else { unreachable!("a JSON object literal") };
    RuleRecord { rule, created_at: now, modified_at: now }
}

impl XrayConfig {
    /// Reads `<dir>/xray.json`, or starts empty when there is none.
    pub fn open(dir: &Path, now: f64) -> Result<Self> {
        let path = dir.join("xray.json");
        let file = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|err| {
                XrayError::Internal(format!(
                    "{} is not a valid X-Ray configuration ({err}): fix or remove it",
                    path.display()
                ))
            })?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => ConfigFile::default(),
            Err(err) => return Err(XrayError::Internal(format!("cannot read {}: {err}", path.display()))),
        };
        let mut config = Self { path: Some(path), file };
        config.ensure_default_rule(now);
        Ok(config)
    }

    /// Nothing on disk (tests).
    pub fn in_memory(now: f64) -> Self {
        let mut config = Self { path: None, file: ConfigFile::default() };
        config.ensure_default_rule(now);
        config
    }

    fn ensure_default_rule(&mut self, now: f64) {
        self.file.version = 1;
        if !self.file.rules.iter().any(|rule| rule.name() == DEFAULT_RULE) {
            self.file.rules.push(default_rule(now));
        }
    }

    fn save(&self) -> Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let fail =
            |what: &str, err: std::io::Error| XrayError::Internal(format!("cannot {what} {}: {err}", path.display()));
        let temporary = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(&self.file).map_err(|err| XrayError::Internal(err.to_string()))?;
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&temporary).map_err(|err| fail("write", err))?;
            file.write_all(&bytes).and_then(|()| file.sync_all()).map_err(|err| fail("write", err))?;
        }
        std::fs::rename(&temporary, path).map_err(|err| fail("replace", err))?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)
                .and_then(|dir| dir.sync_all())
                .map_err(|err| fail("sync the directory of", err))?;
        }
        Ok(())
    }

    // ---- groups ----

    /// Every group, the Default group first.
    pub fn groups(&self) -> Vec<GroupRecord> {
        let default = GroupRecord {
            name: DEFAULT_GROUP.into(),
            arn: format!("{ARN_PREFIX}:group/{DEFAULT_GROUP}"),
            filter_expression: None,
            insights_enabled: false,
            notifications_enabled: false,
        };
        std::iter::once(default).chain(self.file.groups.iter().cloned()).collect()
    }

    /// A group by name or ARN.
    pub fn group(&self, name: Option<&str>, arn: Option<&str>) -> Result<GroupRecord> {
        if name.is_none() && arn.is_none() {
            return Err(XrayError::invalid("GroupName or GroupARN is required"));
        }
        self.groups()
            .into_iter()
            .find(|group| name.is_none_or(|name| group.name == name) && arn.is_none_or(|arn| group.arn == arn))
            .ok_or_else(|| XrayError::NotFound(format!("group {} does not exist", name.or(arn).unwrap_or_default())))
    }

    pub fn create_group(&mut self, group: GroupRecord) -> Result<GroupRecord> {
        check_group_name(&group.name)?;
        if self.groups().iter().any(|existing| existing.name == group.name) {
            return Err(XrayError::invalid(format!("group {} already exists", group.name)));
        }
        if self.file.groups.len() + 1 >= MAX_GROUPS {
            return Err(XrayError::invalid(format!("at most {MAX_GROUPS} groups: delete one first")));
        }
        self.file.groups.push(group.clone());
        self.save()?;
        Ok(group)
    }

    pub fn update_group(
        &mut self,
        name: Option<&str>,
        arn: Option<&str>,
        change: impl FnOnce(&mut GroupRecord),
    ) -> Result<GroupRecord> {
        let found = self.group(name, arn)?;
        if found.name == DEFAULT_GROUP {
            return Err(XrayError::invalid("the Default group cannot be changed"));
        }
        let group = self.file.groups.iter_mut().find(|group| group.name == found.name).expect("found above");
        change(group);
        let updated = group.clone();
        self.save()?;
        Ok(updated)
    }

    pub fn delete_group(&mut self, name: Option<&str>, arn: Option<&str>) -> Result<()> {
        let found = self.group(name, arn)?;
        if found.name == DEFAULT_GROUP {
            return Err(XrayError::invalid("the Default group cannot be deleted"));
        }
        self.file.groups.retain(|group| group.name != found.name);
        self.save()
    }

    // ---- sampling rules ----

    /// Every rule, by priority then name (the Default rule last).
    pub fn rules(&self) -> Vec<RuleRecord> {
        let mut rules = self.file.rules.clone();
        rules
            .sort_by(|a, b| a.number("Priority").total_cmp(&b.number("Priority")).then_with(|| a.name().cmp(b.name())));
        rules
    }

    pub fn last_rule_modification(&self) -> f64 {
        self.file.rules.iter().map(|rule| rule.modified_at).fold(0.0, f64::max)
    }

    pub fn create_rule(&mut self, rule: Map<String, Json>, now: f64) -> Result<RuleRecord> {
        let mut rule = rule;
        check_rule(&mut rule, true)?;
        let name = rule["RuleName"].as_str().unwrap_or_default().to_owned();
        if self.file.rules.iter().any(|existing| existing.name() == name) {
            return Err(XrayError::invalid(format!("sampling rule {name} already exists")));
        }
        if self.file.rules.len() > MAX_RULES {
            return Err(XrayError::RuleLimitExceeded(format!("at most {MAX_RULES} sampling rules: delete one first")));
        }
        rule.insert("RuleARN".into(), Json::from(format!("{ARN_PREFIX}:sampling-rule/{name}")));
        rule.entry("Attributes").or_insert_with(|| Json::Object(Map::new()));
        let record = RuleRecord { rule, created_at: now, modified_at: now };
        self.file.rules.push(record.clone());
        self.save()?;
        Ok(record)
    }

    fn rule_position(&self, name: Option<&str>, arn: Option<&str>) -> Result<usize> {
        if name.is_none() && arn.is_none() {
            return Err(XrayError::invalid("RuleName or RuleARN is required"));
        }
        self.file
            .rules
            .iter()
            .position(|rule| {
                name.is_none_or(|name| rule.name() == name)
                    && arn.is_none_or(|arn| rule.rule.get("RuleARN").and_then(Json::as_str) == Some(arn))
            })
            .ok_or_else(|| {
                XrayError::NotFound(format!("sampling rule {} does not exist", name.or(arn).unwrap_or_default()))
            })
    }

    pub fn update_rule(&mut self, update: &Map<String, Json>, now: f64) -> Result<RuleRecord> {
        let name = update.get("RuleName").and_then(Json::as_str);
        let arn = update.get("RuleARN").and_then(Json::as_str);
        let position = self.rule_position(name, arn)?;
        let mut rule = self.file.rules[position].rule.clone();
        for (key, value) in update {
            if !matches!(key.as_str(), "RuleName" | "RuleARN") && !value.is_null() {
                rule.insert(key.clone(), value.clone());
            }
        }
        check_rule(&mut rule, false)?;
        let record = &mut self.file.rules[position];
        record.rule = rule;
        record.modified_at = now;
        let updated = record.clone();
        self.save()?;
        Ok(updated)
    }

    pub fn delete_rule(&mut self, name: Option<&str>, arn: Option<&str>) -> Result<RuleRecord> {
        let position = self.rule_position(name, arn)?;
        if self.file.rules[position].name() == DEFAULT_RULE {
            return Err(XrayError::invalid("the Default sampling rule cannot be deleted (update it instead)"));
        }
        let removed = self.file.rules.remove(position);
        self.save()?;
        Ok(removed)
    }
}

fn check_group_name(name: &str) -> Result<()> {
    let valid = (1..=32).contains(&name.chars().count())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !valid {
        return Err(XrayError::invalid(format!("GroupName {name:?} must be 1 to 32 letters, digits, '_', '-' or '.'")));
    }
    Ok(())
}

/// Validates a group's filter expression.
pub(crate) fn check_filter(expression: &str) -> Result<()> {
    filter::parse(expression).map(drop).map_err(|err| XrayError::invalid(format!("invalid filter expression: {err}")))
}

/// X-Ray's constraints on a SamplingRule; `creating` requires every member.
fn check_rule(rule: &mut Map<String, Json>, creating: bool) -> Result<()> {
    let name = rule.get("RuleName").and_then(Json::as_str).unwrap_or_default().to_owned();
    if creating && !(1..=32).contains(&name.chars().count()) {
        return Err(XrayError::invalid("SamplingRule.RuleName must be 1 to 32 characters"));
    }
    let text_members = ["ResourceARN", "ServiceName", "ServiceType", "Host", "HTTPMethod", "URLPath"];
    for member in text_members {
        match rule.get(member) {
            Some(Json::String(_)) => {}
            None if !creating => {}
            _ => {
                return Err(XrayError::invalid(format!(
                    "SamplingRule.{member} is required (a string; \"*\" matches all)"
                )));
            }
        }
    }
    let number = |key: &str| rule.get(key).and_then(Json::as_f64);
    let priority = number("Priority").ok_or_else(|| XrayError::invalid("SamplingRule.Priority is required"))?;
    let default_priority = name == DEFAULT_RULE && priority == 10000.0;
    if !(1.0..=9999.0).contains(&priority) && !default_priority {
        return Err(XrayError::invalid("SamplingRule.Priority must be between 1 and 9999"));
    }
    let rate = number("FixedRate").ok_or_else(|| XrayError::invalid("SamplingRule.FixedRate is required"))?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(XrayError::invalid("SamplingRule.FixedRate must be between 0 and 1"));
    }
    let reservoir =
        number("ReservoirSize").ok_or_else(|| XrayError::invalid("SamplingRule.ReservoirSize is required"))?;
    if reservoir < 0.0 || reservoir.fract() != 0.0 {
        return Err(XrayError::invalid("SamplingRule.ReservoirSize must be a whole number, at least 0"));
    }
    if number("Version") != Some(1.0) {
        return Err(XrayError::invalid("SamplingRule.Version must be 1"));
    }
    if rule.get("Attributes").and_then(Json::as_object).is_some_and(|attributes| attributes.len() > 5) {
        return Err(XrayError::invalid("SamplingRule.Attributes has at most 5 entries"));
    }
    if rule.get("ResourceARN").and_then(Json::as_str).is_some_and(|arn| arn.len() > 500) {
        return Err(XrayError::invalid("SamplingRule.ResourceARN is at most 500 characters"));
    }
    Ok(())
}
