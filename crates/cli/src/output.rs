//! Printing answers: human-readable tables by default, or JSON for scripts.
//!
//! JSON is the proto3 JSON mapping of the response message (proto field names, enum value
//! names, RFC 3339 timestamps, every field present), produced from the message descriptors
//! compiled into `dancu-proto`, so it follows the API without hand-written converters.
//! Tables are derived from the same JSON.

use anyhow::Context;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::Value;
use std::sync::OnceLock;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable tables.
    Table,
    /// JSON (one document per answer; one line per item for streams).
    Json,
}

/// A column of a list table: header and dotted path into each item's JSON.
pub type Column = (&'static str, &'static str);

/// The descriptors of every dancu message and enum.
pub fn pool() -> anyhow::Result<&'static DescriptorPool> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(dancu_proto::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| anyhow::anyhow!("cannot load the API descriptors: {e}"))
}

/// The proto3 JSON form of `message`, whose full proto name is `name`
/// (e.g. `dancu.identity.v1.Citizen`).
pub fn to_json<M: prost::Message>(message: &M, name: &str) -> anyhow::Result<Value> {
    let descriptor = pool()?
        .get_message_by_name(name)
        .with_context(|| format!("unknown message type {name}"))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .context("cannot decode the answer")?;
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(false);
    Ok(dynamic.serialize_with_options(serde_json::value::Serializer, &options)?)
}

/// Parses the proto3 JSON form of message type `name` into `M` (for `--from-json`).
pub fn from_json<M: prost::Message + Default>(json: &str, name: &str) -> anyhow::Result<M> {
    let descriptor = pool()?
        .get_message_by_name(name)
        .with_context(|| format!("unknown message type {name}"))?;
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let dynamic = DynamicMessage::deserialize(descriptor, &mut deserializer)
        .map_err(|e| crate::exit::Usage(format!("invalid {name} JSON: {e}")))?;
    deserializer
        .end()
        .map_err(|e| crate::exit::Usage(format!("invalid {name} JSON: {e}")))?;
    Ok(dynamic.transcode_to::<M>()?)
}

/// Prints one message: a two-column table of its non-empty fields, or its JSON.
pub fn record<M: prost::Message>(format: Format, message: &M, name: &str) -> anyhow::Result<()> {
    let json = to_json(message, name)?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&json)?),
        Format::Table => println!("{}", record_table(&json)),
    }
    Ok(())
}

/// Prints a list answer: the items of its `field` as a table with `columns` (and the next
/// page token, if any), or the whole answer as JSON.
pub fn list<M: prost::Message>(
    format: Format,
    message: &M,
    name: &str,
    field: &str,
    columns: &[Column],
) -> anyhow::Result<()> {
    let json = to_json(message, name)?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&json)?),
        Format::Table => {
            let empty = Vec::new();
            let items = json.get(field).and_then(Value::as_array).unwrap_or(&empty);
            if items.is_empty() {
                println!("(none)");
            } else {
                println!("{}", list_table(items, columns));
            }
            if let Some(token) = json
                .get("next_page_token")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                println!("more: --page-token {token}");
            }
        }
    }
    Ok(())
}

/// Prints one item of a stream: a single table-like line, or one line of JSON.
pub fn stream_item<M: prost::Message>(
    format: Format,
    message: &M,
    name: &str,
    columns: &[Column],
) -> anyhow::Result<()> {
    let json = to_json(message, name)?;
    match format {
        Format::Json => println!("{}", serde_json::to_string(&json)?),
        Format::Table => {
            let line: Vec<String> = columns
                .iter()
                .map(|(header, path)| format!("{header}={}", cell(lookup(&json, path))))
                .collect();
            println!("{}", line.join("  "));
        }
    }
    Ok(())
}

fn new_table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    table
}

fn record_table(json: &Value) -> Table {
    let mut rows = Vec::new();
    flatten("", json, &mut rows);
    let mut table = new_table();
    table.set_header(["FIELD", "VALUE"]);
    for (key, value) in rows {
        table.add_row([key, value]);
    }
    table
}

fn list_table(items: &[Value], columns: &[Column]) -> Table {
    let mut table = new_table();
    table.set_header(columns.iter().map(|(header, _)| *header));
    for item in items {
        table.add_row(columns.iter().map(|(_, path)| cell(lookup(item, path))));
    }
    table
}

fn lookup<'a>(json: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(json, |value, key| value.get(key))
}

/// `{year, month, day}` as `YYYY-MM-DD` (`YYYY-MM` or `YYYY` when partial).
fn as_date(value: &Value) -> Option<String> {
    let object = value.as_object()?;
    if object.len() != 3 {
        return None;
    }
    let year = object.get("year")?.as_i64()?;
    let month = object.get("month")?.as_i64()?;
    let day = object.get("day")?.as_i64()?;
    Some(match (month, day) {
        (0, _) => format!("{year:04}"),
        (m, 0) => format!("{year:04}-{m:02}"),
        (m, d) => format!("{year:04}-{m:02}-{d:02}"),
    })
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty() || s.ends_with("_UNSPECIFIED"),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_empty),
        Value::Bool(b) => !b,
        // Numbers (versions, leaf indexes, counts) mean something even when zero.
        Value::Number(_) => false,
    }
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None => String::new(),
        Some(value) if is_empty(value) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| cell(Some(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(value) => as_date(value).unwrap_or_else(|| value.to_string()),
    }
}

fn flatten(prefix: &str, value: &Value, rows: &mut Vec<(String, String)>) {
    if is_empty(value) {
        return;
    }
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        Value::Object(object) if as_date(value).is_none() => {
            for (k, v) in object {
                flatten(&key(k), v, rows);
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), item, rows);
            }
        }
        _ => rows.push((prefix.to_owned(), cell(Some(value)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dancu_proto::common::v1::Date;
    use dancu_proto::identity::v1::Citizen;

    #[test]
    fn citizen_json_uses_proto_names_enum_names_and_keeps_defaults() {
        let citizen = Citizen {
            personal_id: "001090000001".into(),
            full_name: "Nguyễn Văn An".into(),
            sex: 1,
            date_of_birth: Some(Date {
                year: 1990,
                month: 5,
                day: 0,
            }),
            create_time: Some(prost_types::Timestamp {
                seconds: 0,
                nanos: 0,
            }),
            ..Default::default()
        };
        let json = to_json(&citizen, "dancu.identity.v1.Citizen").expect("json");
        assert_eq!(json["personal_id"], "001090000001");
        assert_eq!(json["sex"], "SEX_MALE");
        assert_eq!(json["create_time"], "1970-01-01T00:00:00Z");
        assert_eq!(json["religion"], "");
        let table = record_table(&json).to_string();
        assert!(table.contains("1990-05"), "{table}");
        assert!(!table.contains("religion"), "{table}");
        let back: Citizen =
            from_json(&json.to_string(), "dancu.identity.v1.Citizen").expect("parse");
        assert_eq!(back, citizen);
    }
}
