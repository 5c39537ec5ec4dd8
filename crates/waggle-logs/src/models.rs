//! Request bodies of the CloudWatch Logs operations (botocore's `logs/2014-03-28` model); unknown
//! members are ignored. Responses are built as JSON where they are answered.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::put::InputLogEvent;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct GroupRequest {
    pub(crate) log_group_name: Option<String>,
    pub(crate) log_group_identifier: Option<String>,
    pub(crate) log_group_class: Option<String>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) retention_in_days: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct StreamRequest {
    pub(crate) log_group_name: Option<String>,
    pub(crate) log_stream_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PutLogEventsRequest {
    pub(crate) log_group_name: Option<String>,
    pub(crate) log_stream_name: Option<String>,
    pub(crate) log_events: Vec<InputLogEvent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct DescribeLogGroupsRequest {
    pub(crate) log_group_name_prefix: Option<String>,
    pub(crate) log_group_name_pattern: Option<String>,
    pub(crate) next_token: Option<String>,
    pub(crate) limit: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct DescribeLogStreamsRequest {
    pub(crate) log_group_name: Option<String>,
    pub(crate) log_group_identifier: Option<String>,
    pub(crate) log_stream_name_prefix: Option<String>,
    pub(crate) order_by: Option<String>,
    pub(crate) descending: Option<bool>,
    pub(crate) next_token: Option<String>,
    pub(crate) limit: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct GetLogEventsRequest {
    pub(crate) log_group_name: Option<String>,
    pub(crate) log_group_identifier: Option<String>,
    pub(crate) log_stream_name: Option<String>,
    pub(crate) start_time: Option<i64>,
    pub(crate) end_time: Option<i64>,
    pub(crate) next_token: Option<String>,
    pub(crate) limit: Option<i64>,
    pub(crate) start_from_head: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct FilterLogEventsRequest {
    pub(crate) log_group_name: Option<String>,
    pub(crate) log_group_identifier: Option<String>,
    pub(crate) log_stream_names: Option<Vec<String>>,
    pub(crate) log_stream_name_prefix: Option<String>,
    pub(crate) start_time: Option<i64>,
    pub(crate) end_time: Option<i64>,
    pub(crate) filter_pattern: Option<String>,
    pub(crate) next_token: Option<String>,
    pub(crate) limit: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct StartQueryRequest {
    pub(crate) log_group_name: Option<String>,
    pub(crate) log_group_names: Option<Vec<String>>,
    pub(crate) log_group_identifiers: Option<Vec<String>>,
    pub(crate) start_time: Option<i64>,
    pub(crate) end_time: Option<i64>,
    pub(crate) query_string: Option<String>,
    pub(crate) limit: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct QueryIdRequest {
    pub(crate) query_id: Option<String>,
}
