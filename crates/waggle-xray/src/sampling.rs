//! GetSamplingTargets: each rule's reservoir (traces per second) is split between the clients
//! that reported on it recently, and its fixed rate applies beyond the quota. Quotas last for
//! [`TARGET_TTL_SECONDS`]; clients report every [`REPORT_INTERVAL_SECONDS`].

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value as Json, json};

use crate::config::RuleRecord;

/// How often SDKs should report statistics (X-Ray's interval).
pub(crate) const REPORT_INTERVAL_SECONDS: i64 = 10;
/// How long a reservoir quota holds.
pub(crate) const TARGET_TTL_SECONDS: f64 = 10.0;
/// A client that has not reported for this long no longer shares a reservoir.
const CLIENT_EXPIRY_SECONDS: f64 = 60.0;

/// Statistics of one rule, added up over every report.
#[derive(Debug, Default, Clone)]
pub(crate) struct RuleStatistics {
    pub request_count: i64,
    pub sampled_count: i64,
    pub borrow_count: i64,
    pub last_report: f64,
}

/// Who reported on which rule, and the totals.
#[derive(Debug, Default)]
pub(crate) struct SamplingState {
    /// Rule -> client id -> last report time.
    clients: HashMap<String, BTreeMap<String, f64>>,
    pub statistics: BTreeMap<String, RuleStatistics>,
}

impl SamplingState {
    /// Answers one GetSamplingTargets call: `(SamplingTargetDocuments, UnprocessedStatistics)`.
    pub fn targets(&mut self, rules: &[RuleRecord], documents: &[Json], now: f64) -> (Vec<Json>, Vec<Json>) {
        let mut targets = Vec::new();
        let mut unprocessed = Vec::new();
        for document in documents {
            let rule_name = document.get("RuleName").and_then(Json::as_str).unwrap_or_default();
            let client = document.get("ClientID").and_then(Json::as_str).unwrap_or_default();
            let Some(rule) = rules.iter().find(|rule| rule.name() == rule_name) else {
                unprocessed.push(
                    json!({"RuleName": rule_name, "ErrorCode": "400", "Message": "no sampling rule of this name"}),
                );
                continue;
            };
            if client.is_empty() {
                unprocessed.push(json!({"RuleName": rule_name, "ErrorCode": "400", "Message": "ClientID is required"}));
                continue;
            }
            let count = |key: &str| document.get(key).and_then(Json::as_i64).unwrap_or(0);
            let statistics = self.statistics.entry(rule_name.to_owned()).or_default();
            statistics.request_count += count("RequestCount");
            statistics.sampled_count += count("SampledCount");
            statistics.borrow_count += count("BorrowCount");
            statistics.last_report = now;
            let clients = self.clients.entry(rule_name.to_owned()).or_default();
            clients.insert(client.to_owned(), now);
            clients.retain(|_, seen| now - *seen <= CLIENT_EXPIRY_SECONDS);
            let quota = reservoir_quota(rule.number("ReservoirSize") as i64, clients, client);
            targets.push(json!({
                "RuleName": rule_name,
                "FixedRate": rule.number("FixedRate"),
                "ReservoirQuota": quota,
                "ReservoirQuotaTTL": (now + TARGET_TTL_SECONDS).floor(),
                "Interval": REPORT_INTERVAL_SECONDS,
            }));
        }
        (targets, unprocessed)
    }
}

/// `reservoir` per second split evenly between the active clients; the first `reservoir % n`
/// clients (by id) get one more, so the quotas add up to the reservoir exactly.
fn reservoir_quota(reservoir: i64, clients: &BTreeMap<String, f64>, client: &str) -> i64 {
    let active = clients.len().max(1) as i64;
    let position = clients.keys().position(|id| id == client).unwrap_or(0) as i64;
    reservoir / active + i64::from(position < reservoir % active)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::XrayConfig;

    fn rules() -> Vec<RuleRecord> {
        let mut config = XrayConfig::in_memory(1.0);
        let rule = json!({"RuleName": "Cruddur", "ResourceARN": "*", "Priority": 9000, "FixedRate": 0.1,
                          "ReservoirSize": 5, "ServiceName": "Cruddur", "ServiceType": "*", "Host": "*",
                          "HTTPMethod": "*", "URLPath": "*", "Version": 1});
        config.create_rule(rule.as_object().unwrap().clone(), 1.0).unwrap();
        config.rules()
    }

    fn report(client: &str) -> Json {
        json!({"RuleName": "Cruddur", "ClientID": client, "Timestamp": 100, "RequestCount": 10, "SampledCount": 6, "BorrowCount": 1})
    }

    #[test]
    fn test_sampling_targets_split_the_reservoir_between_clients() {
        let rules = rules();
        let mut state = SamplingState::default();
        let (targets, unprocessed) = state.targets(&rules, &[report("a")], 100.0);
        assert!(unprocessed.is_empty());
        assert_eq!(targets[0]["ReservoirQuota"], 5);
        assert_eq!(targets[0]["FixedRate"], 0.1);
        assert_eq!(targets[0]["ReservoirQuotaTTL"], 110.0);
        assert_eq!(targets[0]["Interval"], 10);
        let (targets_b, _) = state.targets(&rules, &[report("b")], 101.0);
        let (targets_a, _) = state.targets(&rules, &[report("a")], 102.0);
        assert_eq!(
            targets_a[0]["ReservoirQuota"].as_i64().unwrap() + targets_b[0]["ReservoirQuota"].as_i64().unwrap(),
            5
        );
        // A client silent for a minute no longer takes a share.
        let (targets, _) = state.targets(&rules, &[report("a")], 200.0);
        assert_eq!(targets[0]["ReservoirQuota"], 5);
        assert_eq!(state.statistics["Cruddur"].request_count, 40);
        assert_eq!(state.statistics["Cruddur"].borrow_count, 4);
    }

    #[test]
    fn test_sampling_targets_report_unknown_rules() {
        let mut state = SamplingState::default();
        let mut document = report("a");
        document["RuleName"] = json!("Nope");
        let (targets, unprocessed) = state.targets(&rules(), &[document], 1.0);
        assert!(targets.is_empty());
        assert_eq!(unprocessed[0]["RuleName"], "Nope");
    }
}
