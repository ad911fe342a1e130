//! The `ec2` provider's pure parts: a layer's machine settings and their checks, the tags that
//! mark a machine as an instance's, the user data that joins it, and which described machine is
//! an instance's.

mod machines;
mod settings;
mod user_data;

pub use machines::{Machine, MachineState, pick_machine};
pub use settings::{Ec2Settings, SettingProblem, parse_tag};
pub use user_data::{JOIN_TOKEN_END, JOIN_TOKEN_FILE, render_user_data};

/// The tag that names the machine's stack.
pub const TAG_STACK: &str = "drover:stack";
/// The tag that names the machine's layer (its instance's first layer).
pub const TAG_LAYER: &str = "drover:layer";
/// The tag that names the machine's instance.
pub const TAG_HOSTNAME: &str = "drover:hostname";

/// The tags a new machine gets: the user's, then stack, layer and hostname (which users may not
/// set themselves, see [`Ec2Settings::validate`]).
pub fn machine_tags(settings: &Ec2Settings, stack: &str, layer: &str, hostname: &str) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = settings.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    tags.push((TAG_STACK.to_owned(), stack.to_owned()));
    tags.push((TAG_LAYER.to_owned(), layer.to_owned()));
    tags.push((TAG_HOSTNAME.to_owned(), hostname.to_owned()));
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drover_tags_come_after_the_users() {
        let mut settings =
            Ec2Settings { ami: "ami-12345678".into(), instance_type: "t3.micro".into(), ..Default::default() };
        settings.tags.insert("team".into(), "web".into());
        let tags = machine_tags(&settings, "prod", "clients", "clients1");
        let keys: Vec<&str> = tags.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["team", TAG_STACK, TAG_LAYER, TAG_HOSTNAME]);
        assert_eq!(tags[3].1, "clients1");
    }
}
