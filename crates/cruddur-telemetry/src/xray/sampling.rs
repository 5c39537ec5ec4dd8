//! Centralized sampling, as the X-Ray SDKs do it, without I/O or clocks of its own (the caller
//! passes the time and the random number, so tests need no sleeps).
//!
//! - Rules come from `GetSamplingRules`; only those the SDKs use are kept (Version 1, ResourceARN
//!   `*`, no Attributes). A request takes the first rule by priority (then name) whose service
//!   name, service type, host, HTTP method and URL path patterns all match; the `Default` rule
//!   catches the rest.
//! - Each rule samples from its reservoir first, then at its fixed rate. The reservoir is the
//!   quota per second the daemon granted in `SamplingTargets`, while its TTL lasts; before the
//!   first quota (or after it expired) a rule with a reservoir borrows one request per second.
//! - Every decision is counted per rule (requests, sampled, borrowed) and reported in the next
//!   `SamplingTargets` call, once the rule's reporting interval has passed.
//! - Without rules (not fetched yet, or none for an hour) the SDKs' local default applies: one
//!   request per second, then 5%.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::naming::wildcard_match;

/// The rule that always exists and matches everything.
const DEFAULT_RULE: &str = "Default";
/// Rules not refreshed for this long are not trusted any more (the SDKs' cache TTL).
const RULES_TTL_SECONDS: f64 = 3600.0;
/// How often a rule's statistics are reported until the daemon says otherwise.
const DEFAULT_REPORT_INTERVAL_SECONDS: f64 = 10.0;
/// The local fallback: this many requests per second, then this share of the rest.
const LOCAL_PER_SECOND: i64 = 1;
const LOCAL_RATE: f64 = 0.05;

/// What a sampling decision looks at: the request a segment is about to record.
#[derive(Debug, Clone, Copy, Default)]
pub struct SamplingRequest<'a> {
    /// The segment's name (X-Ray's service name).
    pub service_name: &'a str,
    /// The segment's origin (`AWS::EC2::Instance`, ...); empty when not on AWS.
    pub service_type: &'a str,
    /// The request's `Host`.
    pub host: &'a str,
    /// `GET`, `POST`, ...
    pub http_method: &'a str,
    /// The request's path.
    pub url_path: &'a str,
}

/// A rule as `GetSamplingRules` returns it (`SamplingRuleRecords[].SamplingRule`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleDefinition {
    /// The rule's name, unique.
    pub rule_name: String,
    /// Lower goes first (1-9999; the default rule is 10000).
    pub priority: i64,
    /// Share of the requests beyond the reservoir that are sampled.
    pub fixed_rate: f64,
    /// Requests per second sampled before the fixed rate applies (split between clients).
    pub reservoir_size: i64,
    /// Pattern of the segment name.
    pub service_name: String,
    /// Pattern of the origin.
    pub service_type: String,
    /// Pattern of the `Host`.
    pub host: String,
    /// Pattern of the method.
    #[serde(rename = "HTTPMethod")]
    pub http_method: String,
    /// Pattern of the path.
    #[serde(rename = "URLPath")]
    pub url_path: String,
    /// Must be `*`: SDKs cannot match resource ARNs.
    #[serde(rename = "ResourceARN")]
    pub resource_arn: String,
    /// Must be 1.
    pub version: i64,
    /// Must be empty: SDKs do not match attributes.
    #[serde(default)]
    pub attributes: HashMap<String, String>,
}

impl RuleDefinition {
    fn usable(&self) -> bool {
        self.version == 1 && self.resource_arn == "*" && self.attributes.is_empty()
    }

    fn matches(&self, request: &SamplingRequest<'_>) -> bool {
        if self.rule_name == DEFAULT_RULE {
            return true;
        }
        wildcard_match(&self.service_name, request.service_name)
            && wildcard_match(&self.service_type, request.service_type)
            && wildcard_match(&self.host, request.host)
            && wildcard_match(&self.http_method, request.http_method)
            && wildcard_match(&self.url_path, request.url_path)
    }
}

/// The rules of a `GetSamplingRules` answer; records that are not rules are skipped.
pub fn parse_rules(response: &Json) -> Vec<RuleDefinition> {
    let records = response.get("SamplingRuleRecords").and_then(Json::as_array).map_or(&[][..], Vec::as_slice);
    records
        .iter()
        .filter_map(|record| record.get("SamplingRule"))
        .filter_map(|rule| RuleDefinition::deserialize(rule).ok())
        .collect()
}

/// One rule's counts since its last report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Statistics {
    /// Requests the rule matched.
    pub request_count: i64,
    /// Requests sampled from the quota or at the fixed rate.
    pub sampled_count: i64,
    /// Requests sampled by borrowing (no quota yet).
    pub borrow_count: i64,
}

/// One entry of `SamplingStatisticsDocuments`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatisticsDocument {
    /// The rule.
    pub rule_name: String,
    /// This process (24 hex characters).
    #[serde(rename = "ClientID")]
    pub client_id: String,
    /// When the counts were taken, epoch seconds.
    pub timestamp: f64,
    /// See [`Statistics`].
    pub request_count: i64,
    /// See [`Statistics`].
    pub sampled_count: i64,
    /// See [`Statistics`].
    pub borrow_count: i64,
}

/// One entry of `SamplingTargetDocuments`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetDocument {
    /// The rule.
    pub rule_name: String,
    /// The rule's fixed rate (it may have changed).
    #[serde(default)]
    pub fixed_rate: Option<f64>,
    /// This client's requests per second from the reservoir.
    #[serde(default)]
    pub reservoir_quota: Option<i64>,
    /// Until when the quota holds, epoch seconds.
    #[serde(rename = "ReservoirQuotaTTL", default)]
    pub reservoir_quota_ttl: Option<f64>,
    /// Seconds between two reports of the rule.
    #[serde(default)]
    pub interval: Option<f64>,
}

/// A `SamplingTargets` answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetsResponse {
    /// New quotas and rates.
    #[serde(default)]
    pub sampling_target_documents: Vec<TargetDocument>,
    /// When a rule last changed, epoch seconds: newer than our copy means fetch the rules again.
    #[serde(default)]
    pub last_rule_modification: Option<f64>,
}

/// What the reservoir allows for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reservoir {
    Take,
    Borrow,
    No,
}

/// A rule's quota and what was used of it in the current second.
#[derive(Debug, Clone, Default)]
struct Quota {
    per_second: Option<i64>,
    expires_at: Option<f64>,
    second: i64,
    taken: i64,
    borrowed: i64,
}

impl Quota {
    fn take_or_borrow(&mut self, now: f64, can_borrow: bool) -> Reservoir {
        let second = now.floor() as i64;
        if second != self.second {
            self.second = second;
            self.taken = 0;
            self.borrowed = 0;
        }
        if let (Some(per_second), Some(expires_at)) = (self.per_second, self.expires_at)
            && now < expires_at
        {
            if self.taken >= per_second {
                return Reservoir::No;
            }
            self.taken += 1;
            return Reservoir::Take;
        }
        if can_borrow && self.borrowed < 1 {
            self.borrowed += 1;
            return Reservoir::Borrow;
        }
        Reservoir::No
    }
}

#[derive(Debug, Clone)]
struct Rule {
    definition: RuleDefinition,
    quota: Quota,
    statistics: Statistics,
    report_interval: f64,
    last_report: f64,
}

impl Rule {
    fn new(definition: RuleDefinition) -> Self {
        Self {
            definition,
            quota: Quota::default(),
            statistics: Statistics::default(),
            report_interval: DEFAULT_REPORT_INTERVAL_SECONDS,
            last_report: f64::NEG_INFINITY,
        }
    }

    fn sample(&mut self, now: f64, random: f64) -> bool {
        self.statistics.request_count += 1;
        match self.quota.take_or_borrow(now, self.definition.reservoir_size > 0) {
            Reservoir::Take => {
                self.statistics.sampled_count += 1;
                true
            }
            Reservoir::Borrow => {
                self.statistics.borrow_count += 1;
                true
            }
            Reservoir::No if random < self.definition.fixed_rate => {
                self.statistics.sampled_count += 1;
                true
            }
            Reservoir::No => false,
        }
    }

    fn sort_key(&self) -> (bool, i64, &str) {
        (self.definition.rule_name == DEFAULT_RULE, self.definition.priority, &self.definition.rule_name)
    }
}

/// The rules, their reservoirs and counts; one per process, shared by the request path and the
/// poller that talks to the daemon.
#[derive(Debug, Default)]
pub struct Sampler {
    rules: Vec<Rule>,
    fetched_at: Option<f64>,
    local_second: i64,
    local_taken: i64,
}

impl Sampler {
    /// A sampler without rules (the local default applies until [`Sampler::update_rules`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Samples a request at `now` (epoch seconds); `random` is uniform in `[0, 1)`.
    pub fn decide(&mut self, request: &SamplingRequest<'_>, now: f64, random: f64) -> bool {
        if self.fetched_at.is_some_and(|fetched| now - fetched < RULES_TTL_SECONDS)
            && let Some(rule) = self.rules.iter_mut().find(|rule| rule.definition.matches(request))
        {
            return rule.sample(now, random);
        }
        let second = now.floor() as i64;
        if second != self.local_second {
            self.local_second = second;
            self.local_taken = 0;
        }
        if self.local_taken < LOCAL_PER_SECOND {
            self.local_taken += 1;
            return true;
        }
        random < LOCAL_RATE
    }

    /// Replaces the rules with those fetched at `now`; a rule that keeps its name keeps its
    /// quota and counts.
    pub fn update_rules(&mut self, definitions: Vec<RuleDefinition>, now: f64) {
        let mut previous: HashMap<String, Rule> =
            self.rules.drain(..).map(|rule| (rule.definition.rule_name.clone(), rule)).collect();
        self.rules = definitions
            .into_iter()
            .filter(RuleDefinition::usable)
            .map(|definition| match previous.remove(&definition.rule_name) {
                Some(old) => Rule { definition, ..old },
                None => Rule::new(definition),
            })
            .collect();
        self.rules.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.fetched_at = Some(now);
    }

    /// Names of the rules in matching order (tests and logs).
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|rule| rule.definition.rule_name.as_str()).collect()
    }

    /// The reports due at `now` (rules that matched requests and whose interval passed); their
    /// counts start again from zero.
    pub fn take_statistics(&mut self, client_id: &str, now: f64) -> Vec<StatisticsDocument> {
        let mut documents = Vec::new();
        for rule in &mut self.rules {
            if rule.statistics.request_count == 0 || now - rule.last_report < rule.report_interval {
                continue;
            }
            let Statistics { request_count, sampled_count, borrow_count } = std::mem::take(&mut rule.statistics);
            rule.last_report = now;
            documents.push(StatisticsDocument {
                rule_name: rule.definition.rule_name.clone(),
                client_id: client_id.to_owned(),
                timestamp: now,
                request_count,
                sampled_count,
                borrow_count,
            });
        }
        documents
    }

    /// Applies quotas and rates; true when the rules may have changed since they were fetched.
    pub fn apply_targets(&mut self, response: &TargetsResponse) -> bool {
        for target in &response.sampling_target_documents {
            let Some(rule) = self.rules.iter_mut().find(|rule| rule.definition.rule_name == target.rule_name) else {
                continue;
            };
            if let Some(rate) = target.fixed_rate {
                rule.definition.fixed_rate = rate;
            }
            if let Some(quota) = target.reservoir_quota {
                rule.quota.per_second = Some(quota);
            }
            if let Some(ttl) = target.reservoir_quota_ttl {
                rule.quota.expires_at = Some(ttl);
            }
            if let Some(interval) = target.interval.filter(|interval| *interval > 0.0) {
                rule.report_interval = interval;
            }
        }
        // Modification times come in whole seconds: one in the second of the fetch may be newer.
        match (response.last_rule_modification, self.fetched_at) {
            (Some(modified), Some(fetched)) => modified >= fetched.floor(),
            _ => false,
        }
    }

    /// The counts not reported yet of `rule`.
    #[cfg(test)]
    pub fn statistics(&self, rule: &str) -> Option<Statistics> {
        self.rules.iter().find(|candidate| candidate.definition.rule_name == rule).map(|rule| rule.statistics)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const T0: f64 = 1_700_000_000.0;

    fn rule(name: &str, priority: i64, reservoir: i64, rate: f64, patterns: [&str; 4]) -> Json {
        let [service, host, method, path] = patterns;
        json!({"RuleName": name, "RuleARN": format!("arn:aws:xray:us-east-1:000000000000:sampling-rule/{name}"),
               "ResourceARN": "*", "Priority": priority, "FixedRate": rate, "ReservoirSize": reservoir,
               "ServiceName": service, "ServiceType": "*", "Host": host, "HTTPMethod": method, "URLPath": path,
               "Version": 1, "Attributes": {}})
    }

    fn rules(rules: &[Json]) -> Json {
        json!({"SamplingRuleRecords": rules.iter().map(|rule| json!({"SamplingRule": rule, "CreatedAt": T0, "ModifiedAt": T0})).collect::<Vec<_>>()})
    }

    fn default_rule(reservoir: i64, rate: f64) -> Json {
        rule(DEFAULT_RULE, 10000, reservoir, rate, ["*"; 4])
    }

    fn request<'a>(service: &'a str, method: &'a str, path: &'a str) -> SamplingRequest<'a> {
        SamplingRequest {
            service_name: service,
            service_type: "",
            host: "127.0.0.1:4567",
            http_method: method,
            url_path: path,
        }
    }

    fn sampler(definitions: &[Json]) -> Sampler {
        let mut sampler = Sampler::new();
        sampler.update_rules(parse_rules(&rules(definitions)), T0);
        sampler
    }

    /// Which rule a request lands on: the one whose counts moved.
    fn matched(sampler: &mut Sampler, request: &SamplingRequest<'_>) -> String {
        let before: Vec<i64> = sampler.rules.iter().map(|rule| rule.statistics.request_count).collect();
        sampler.decide(request, T0, 0.99);
        let moved = sampler.rules.iter().zip(before).find(|(rule, count)| rule.statistics.request_count != *count);
        moved.map(|(rule, _)| rule.definition.rule_name.clone()).unwrap_or_default()
    }

    #[test]
    fn test_rules_match_by_priority_then_name_with_wildcards() {
        let mut sampler = sampler(&[
            default_rule(1, 0.05),
            rule("home", 100, 0, 0.0, ["backend-flask", "*", "GET", "/api/activities/home"]),
            rule("any-api", 200, 0, 0.0, ["*", "*", "*", "/api/*"]),
            rule("b-posts", 50, 0, 0.0, ["*", "*", "POST", "*"]),
            rule("a-posts", 50, 0, 0.0, ["*", "*", "post", "*"]),
            rule("other-host", 1, 0, 0.0, ["*", "example.com", "*", "*"]),
            rule("notif?", 150, 0, 0.0, ["backend-*", "127.0.0.?:4567", "GET", "/api/activities/notification?"]),
        ]);
        assert_eq!(sampler.rule_names(), ["other-host", "a-posts", "b-posts", "home", "notif?", "any-api", "Default"]);
        assert_eq!(matched(&mut sampler, &request("backend-flask", "GET", "/api/activities/home")), "home");
        assert_eq!(matched(&mut sampler, &request("other-service", "GET", "/api/activities/home")), "any-api");
        assert_eq!(matched(&mut sampler, &request("backend-flask", "POST", "/api/activities")), "a-posts");
        assert_eq!(matched(&mut sampler, &request("backend-flask", "GET", "/api/activities/notifications")), "notif?");
        assert_eq!(matched(&mut sampler, &request("backend-flask", "GET", "/rollbar/test")), "Default");
    }

    #[test]
    fn test_rules_the_sdks_cannot_apply_are_ignored() {
        let mut arn = rule("arn", 1, 0, 0.0, ["*"; 4]);
        arn["ResourceARN"] = json!("arn:aws:ecs:us-east-1:000000000000:service/cruddur");
        let mut attributes = rule("attributes", 2, 0, 0.0, ["*"; 4]);
        attributes["Attributes"] = json!({"env": "prod"});
        let mut version = rule("version", 3, 0, 0.0, ["*"; 4]);
        version["Version"] = json!(2);
        let mut broken = rule("broken", 4, 0, 0.0, ["*"; 4]);
        broken.as_object_mut().unwrap().remove("Priority");
        let sampler = sampler(&[default_rule(1, 0.05), arn, attributes, version, broken]);
        assert_eq!(sampler.rule_names(), ["Default"]);
    }

    #[test]
    fn test_service_type_must_match_an_empty_origin() {
        let mut ec2 = rule("ec2", 1, 0, 1.0, ["*"; 4]);
        ec2["ServiceType"] = json!("AWS::EC2::Instance");
        let mut sampler = sampler(&[default_rule(0, 0.0), ec2]);
        assert_eq!(matched(&mut sampler, &request("backend-flask", "GET", "/")), "Default");
    }

    #[test]
    fn test_borrows_one_per_second_before_the_first_quota() {
        let mut sampler = sampler(&[default_rule(0, 0.0), rule("r", 1, 5, 0.0, ["*"; 4])]);
        let req = request("s", "GET", "/");
        let decisions: Vec<bool> = (0..5).map(|i| sampler.decide(&req, T0 + 0.1 * i as f64, 0.5)).collect();
        assert_eq!(decisions, [true, false, false, false, false]);
        assert!(sampler.decide(&req, T0 + 1.0, 0.5), "a new second, a new borrow");
        assert_eq!(sampler.statistics("r"), Some(Statistics { request_count: 6, sampled_count: 0, borrow_count: 2 }));
    }

    #[test]
    fn test_a_rule_without_reservoir_never_borrows() {
        let mut sampler = sampler(&[default_rule(1, 0.05), rule("none", 1, 0, 0.0, ["*"; 4])]);
        let req = request("s", "GET", "/");
        assert!((0..100).all(|i| !sampler.decide(&req, T0 + i as f64 * 0.25, 0.0)));
        assert_eq!(
            sampler.statistics("none"),
            Some(Statistics { request_count: 100, sampled_count: 0, borrow_count: 0 })
        );
    }

    #[test]
    fn test_quota_per_second_then_fixed_rate() {
        let mut sampler = sampler(&[default_rule(0, 0.0), rule("r", 1, 10, 0.25, ["*"; 4])]);
        let changed = sampler.apply_targets(&TargetsResponse {
            sampling_target_documents: vec![TargetDocument {
                rule_name: "r".into(),
                fixed_rate: Some(0.25),
                reservoir_quota: Some(3),
                reservoir_quota_ttl: Some(T0 + 10.0),
                interval: Some(10.0),
            }],
            last_rule_modification: Some(T0 - 100.0),
        });
        assert!(!changed);
        let req = request("s", "GET", "/");
        // Within one second: three from the quota, then the fixed rate decides by the random number.
        let quota: Vec<bool> = (0..3).map(|i| sampler.decide(&req, T0 + 0.01 * i as f64, 0.99)).collect();
        assert_eq!(quota, [true, true, true]);
        assert!(!sampler.decide(&req, T0 + 0.5, 0.25), "random 0.25 is not below the rate");
        assert!(sampler.decide(&req, T0 + 0.6, 0.2499));
        // The next second has a fresh quota.
        assert!(sampler.decide(&req, T0 + 1.0, 0.99));
        assert_eq!(sampler.statistics("r"), Some(Statistics { request_count: 6, sampled_count: 5, borrow_count: 0 }));
        // After the TTL: back to borrowing one per second.
        assert!(sampler.decide(&req, T0 + 10.0, 0.99));
        assert!(!sampler.decide(&req, T0 + 10.1, 0.99));
        assert_eq!(sampler.statistics("r").unwrap().borrow_count, 1);
    }

    #[test]
    fn test_zero_quota_samples_at_the_fixed_rate_only() {
        let mut sampler = sampler(&[default_rule(0, 0.0), rule("r", 1, 1, 0.1, ["*"; 4])]);
        sampler.apply_targets(&TargetsResponse {
            sampling_target_documents: vec![TargetDocument {
                rule_name: "r".into(),
                reservoir_quota: Some(0),
                reservoir_quota_ttl: Some(T0 + 10.0),
                ..TargetDocument::default()
            }],
            last_rule_modification: None,
        });
        let req = request("s", "GET", "/");
        let sampled = (0..1000).filter(|i| sampler.decide(&req, T0 + 0.001 * *i as f64, *i as f64 / 1000.0)).count();
        assert_eq!(sampled, 100);
    }

    #[test]
    fn test_local_default_before_rules_arrive_and_after_they_expire() {
        let mut sampler = Sampler::new();
        let req = request("s", "GET", "/");
        assert!(sampler.decide(&req, T0, 0.99));
        assert!(!sampler.decide(&req, T0 + 0.5, 0.99));
        assert!(sampler.decide(&req, T0 + 0.6, 0.04), "5% beyond the first per second");
        sampler.update_rules(parse_rules(&rules(&[default_rule(0, 0.0)])), T0 + 1.0);
        assert!(!sampler.decide(&req, T0 + 2.0, 0.0));
        assert!(sampler.decide(&req, T0 + 1.0 + RULES_TTL_SECONDS, 0.99), "stale rules: local default again");
    }

    #[test]
    fn test_statistics_are_reported_once_per_interval_and_reset() {
        let mut sampler = sampler(&[default_rule(0, 0.0), rule("r", 1, 1, 0.0, ["*"; 4])]);
        assert!(sampler.take_statistics("client", T0).is_empty(), "nothing matched yet");
        let req = request("s", "GET", "/");
        sampler.decide(&req, T0, 0.5);
        sampler.decide(&req, T0 + 0.5, 0.5);
        let reports = sampler.take_statistics("0123456789abcdef01234567", T0 + 1.0);
        assert_eq!(
            reports,
            [StatisticsDocument {
                rule_name: "r".into(),
                client_id: "0123456789abcdef01234567".into(),
                timestamp: T0 + 1.0,
                request_count: 2,
                sampled_count: 0,
                borrow_count: 1,
            }]
        );
        let wire = serde_json::to_value(&reports[0]).unwrap();
        assert_eq!(wire["ClientID"], "0123456789abcdef01234567");
        assert_eq!(wire["RequestCount"], 2);
        assert_eq!(wire["BorrowCount"], 1);
        sampler.decide(&req, T0 + 2.0, 0.5);
        assert!(sampler.take_statistics("c", T0 + 5.0).is_empty(), "the interval has not passed");
        assert_eq!(sampler.take_statistics("c", T0 + 11.0)[0].request_count, 1);
        assert_eq!(sampler.statistics("r"), Some(Statistics::default()));
    }

    #[test]
    fn test_refreshed_rules_keep_quota_and_counts_and_changes_are_noticed() {
        let mut sampler = sampler(&[default_rule(0, 0.0), rule("r", 1, 5, 0.0, ["*"; 4])]);
        let targets: TargetsResponse = serde_json::from_value(json!({
            "SamplingTargetDocuments": [{"RuleName": "r", "FixedRate": 0.0, "ReservoirQuota": 2,
                                         "ReservoirQuotaTTL": T0 + 100.0, "Interval": 10}],
            "LastRuleModification": T0 + 1.0, "UnprocessedStatistics": []}))
        .unwrap();
        assert!(sampler.apply_targets(&targets), "a rule changed after the fetch");
        let req = request("s", "GET", "/");
        sampler.decide(&req, T0 + 2.0, 0.5);
        sampler.update_rules(parse_rules(&rules(&[default_rule(0, 0.0), rule("r", 1, 5, 0.0, ["*"; 4])])), T0 + 3.0);
        assert_eq!(sampler.statistics("r").unwrap().sampled_count, 1);
        assert!(sampler.decide(&req, T0 + 4.0, 0.5));
        assert!(sampler.decide(&req, T0 + 4.1, 0.5), "the quota of 2 survived the refresh");
        assert!(!sampler.decide(&req, T0 + 4.2, 0.5));
        assert!(!sampler.apply_targets(&targets), "already fetched after that change");
        let same_second = TargetsResponse { last_rule_modification: Some(T0 + 3.0), ..TargetsResponse::default() };
        assert!(sampler.apply_targets(&same_second), "a change in the second of the fetch may be newer");
    }
}
