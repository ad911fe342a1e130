//! OpsWorks' `TimeBasedAutoScaling` grid: `{"Monday": {"8": "on", "9": "on"}, "Tuesday": {}}`,
//! weekdays by full name and UTC hours `"0"` to `"23"` as strings, `"on"` or `"off"`.
//!
//! [`parse`] also takes what `aws opsworks describe-time-based-auto-scaling` prints (one
//! instance's `AutoScalingSchedule` inside `TimeBasedAutoScalingConfigurations`), so its output
//! can be pasted as it is. A schedule serializes as the grid, with every weekday, Monday first,
//! and only the hours that are on.

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::schedule::WeeklySchedule;
use super::week::Weekday;

/// A grid that could not be read, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the schedule grid is not OpsWorks' TimeBasedAutoScaling shape: {}; write weekdays and UTC \
     hours, e.g. {{\"Monday\": {{\"8\": \"on\", \"9\": \"on\"}}, \"Sunday\": {{\"22\": \"on\"}}}}",
    problems.join("; ")
)]
pub struct GridError {
    /// Each problem, naming where it is (`Monday."24"`).
    pub problems: Vec<String>,
}

/// A schedule from grid JSON text (see the module's documentation for the shapes accepted).
pub fn parse(text: &str) -> Result<WeeklySchedule, GridError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| GridError { problems: vec![format!("it is not JSON ({e})")] })?;
    from_value(&value)
}

/// A schedule from a grid already read as JSON.
pub fn from_value(value: &Value) -> Result<WeeklySchedule, GridError> {
    let one = |problem: String| GridError { problems: vec![problem] };
    let Some(object) = value.as_object() else {
        return Err(one(format!("it is {}, not an object of weekdays", kind(value))));
    };
    if let Some(configurations) = object.get("TimeBasedAutoScalingConfigurations") {
        return match configurations.as_array().map(Vec::as_slice) {
            Some([configuration]) => from_value(configuration),
            Some(list) => Err(one(format!(
                "TimeBasedAutoScalingConfigurations holds {} instances' schedules; paste one \
                 instance's AutoScalingSchedule",
                list.len()
            ))),
            None => Err(one(format!("TimeBasedAutoScalingConfigurations is {}, not a list", kind(configurations)))),
        };
    }
    if let Some(schedule) = object.get("AutoScalingSchedule") {
        return from_value(schedule);
    }
    from_days(object)
}

fn from_days(object: &Map<String, Value>) -> Result<WeeklySchedule, GridError> {
    let mut schedule = WeeklySchedule::never();
    let mut problems = Vec::new();
    for (key, hours) in object {
        let Some(day) = Weekday::ALL.into_iter().find(|d| d.name().eq_ignore_ascii_case(key)) else {
            problems.push(format!("{key:?} is not a weekday (write Monday to Sunday)"));
            continue;
        };
        let hours = match hours {
            Value::Null => continue,
            Value::Object(hours) => hours,
            other => {
                problems.push(format!("{} is {}, not an object of hours", day.name(), kind(other)));
                continue;
            }
        };
        for (hour, state) in hours {
            let place = format!("{}.{hour:?}", day.name());
            let Some(hour) = hour.parse::<u32>().ok().filter(|h| *h < 24) else {
                problems.push(format!("{place} is not an hour from \"0\" to \"23\""));
                continue;
            };
            match state.as_str() {
                Some(s) if s.eq_ignore_ascii_case("on") => schedule.set_on(day, hour),
                Some(s) if s.eq_ignore_ascii_case("off") => {}
                _ => problems.push(format!("{place} is {state}, not \"on\" or \"off\"")),
            }
        }
    }
    if problems.is_empty() { Ok(schedule) } else { Err(GridError { problems }) }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// One day's hours that are on, as the grid writes them.
struct DayHours(Vec<u32>);

impl Serialize for DayHours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for hour in &self.0 {
            map.serialize_entry(&hour.to_string(), "on")?;
        }
        map.end()
    }
}

impl Serialize for WeeklySchedule {
    /// The grid: every weekday, Monday first, with the hours that are on.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(7))?;
        for day in Weekday::ALL {
            map.serialize_entry(day.name(), &DayHours(self.hours(day)))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for WeeklySchedule {
    /// Any shape [`parse`] takes.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        from_value(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(specs: &[&str]) -> WeeklySchedule {
        WeeklySchedule::from_specs(specs).unwrap()
    }

    #[test]
    fn reads_the_grid_and_what_opsworks_prints() {
        let describe = r#"{"TimeBasedAutoScalingConfigurations": [{"InstanceId": "a1b2",
            "AutoScalingSchedule": {"Monday": {"8": "on", "9": "on", "10": "off"}, "Sunday": {"23": "on"}}}]}"#;
        // (input, expected)
        let cases = [
            (r#"{"Monday": {"8": "on", "9": "on"}, "Sunday": {"23": "on"}}"#, specs(&["mon 08-10", "sun 23-24"])),
            (describe, specs(&["mon 08-10", "sun 23-24"])),
            (r#"{"AutoScalingSchedule": {"friday": {"0": "ON"}}}"#, specs(&["fri 00-01"])),
            (r#"{"Tuesday": {}, "Wednesday": null}"#, WeeklySchedule::never()),
            ("{}", WeeklySchedule::never()),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn refusals_name_every_problem() {
        // (input, expected problems)
        let cases: [(&str, &[&str]); 6] = [
            ("[", &["it is not JSON"]),
            ("[]", &["it is a list, not an object of weekdays"]),
            (r#"{"Mon": {}}"#, &["\"Mon\" is not a weekday (write Monday to Sunday)"]),
            (
                r#"{"Monday": {"24": "on", "8": true}, "Friday": []}"#,
                &["Monday.\"24\" is not an hour", "Monday.\"8\" is true, not \"on\" or \"off\"", "Friday is a list"],
            ),
            (r#"{"TimeBasedAutoScalingConfigurations": []}"#, &["holds 0 instances' schedules"]),
            (r#"{"AutoScalingSchedule": 3}"#, &["it is a number"]),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            let message = err.to_string();
            for part in want {
                assert!(message.contains(part), "{text}: {message}");
            }
            assert!(message.contains(r#"e.g. {"Monday": {"8": "on""#), "{text}: {message}");
        }
    }

    #[test]
    fn writes_the_grid_monday_first() {
        let schedule = specs(&["mon 08-10", "sun 22-02"]);
        let json = serde_json::to_string(&schedule).unwrap();
        assert_eq!(
            json,
            r#"{"Monday":{"0":"on","1":"on","8":"on","9":"on"},"Tuesday":{},"Wednesday":{},"Thursday":{},"Friday":{},"Saturday":{},"Sunday":{"22":"on","23":"on"}}"#
        );
        assert_eq!(serde_json::from_str::<WeeklySchedule>(&json).unwrap(), schedule);
        assert_eq!(parse(&json), Ok(schedule));
        let err = serde_json::from_str::<WeeklySchedule>(r#"{"Someday": {}}"#).unwrap_err().to_string();
        assert!(err.contains("\"Someday\" is not a weekday"), "{err}");
    }
}
