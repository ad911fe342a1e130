//! `drover import opsworks`: an OpsWorks stack (describe-* output or a CloudFormation template)
//! as a stack file, with everything that was not carried over listed by name.

use std::collections::BTreeMap;
use std::path::Path;

use drover_core::import::opsworks::{self, Import, Options, cloudformation, describe};

use crate::cli_import::{ImportCommand, ImportOpsworksArgs};
use crate::exit::{CliResult, FAILED, Failure, OK};
use crate::output::print_json;
use crate::stackfile::render_import;

pub async fn run(cmd: ImportCommand) -> CliResult {
    match cmd {
        ImportCommand::Opsworks(args) => opsworks_import(args),
    }
}

/// The describe files present in `dir`, by name.
fn read_describe(dir: &Path) -> CliResult<BTreeMap<String, String>> {
    if !dir.is_dir() {
        return Err(Failure::usage(format!(
            "{} is not a directory; --describe takes the directory holding describe-stacks.json, \
             describe-layers.json, …",
            dir.display()
        )));
    }
    let mut files = BTreeMap::new();
    for (name, ..) in describe::FILES {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => drop(files.insert(name.to_owned(), text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Failure::usage(format!("failed to read {}: {e}", path.display()))),
        }
    }
    Ok(files)
}

/// Reads the input and converts it; errors name the file (with its directory) and JSON path.
fn convert(args: &ImportOpsworksArgs) -> CliResult<(Import, String)> {
    let options = Options { stack: args.stack.clone(), name: args.name.clone(), provider: Some(args.provider.clone()) };
    let (inputs, source, dir) = match (&args.describe, &args.cloudformation) {
        (Some(dir), _) => {
            let files = read_describe(dir)?;
            (describe::read(&files), dir.display().to_string(), Some(dir.as_path()))
        }
        (None, Some(file)) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::usage(format!("failed to read {}: {e}", file.display())))?;
            let name = file.display().to_string();
            (cloudformation::read(&name, &text), name, None)
        }
        (None, None) => return Err(Failure::usage("give --describe DIR or --cloudformation FILE")),
    };
    let shown = |mut e: opsworks::ImportError| {
        if let Some(dir) = dir {
            e.file = dir.join(&e.file).display().to_string();
        }
        Failure::usage(format!("{e}; nothing was written"))
    };
    let import = opsworks::convert(&inputs.map_err(shown)?, &options).map_err(shown)?;
    if let Some(name) = &args.name {
        drover_core::Shortname::parse(name).map_err(|e| Failure::usage(format!("--name {name:?} {e}")))?;
    }
    Ok((import, source))
}

fn opsworks_import(args: ImportOpsworksArgs) -> CliResult {
    let (import, source) = convert(&args)?;
    let text = render_import(&import, &source);
    if let Some(path) = &args.output {
        if path.exists() && !args.force {
            return Err(Failure::usage(format!(
                "{} exists; give another -o or --force to replace it; nothing was written",
                path.display()
            )));
        }
        std::fs::write(path, &text)
            .map_err(|e| Failure::new(FAILED, format!("failed to write {}: {e}", path.display())))?;
    }
    for item in &import.left_out {
        eprintln!("not carried over: {item}");
    }
    for note in &import.notes {
        eprintln!("note: {note}");
    }
    let secrets: Vec<String> =
        import.apps.iter().flat_map(|a| a.secrets.iter().map(move |s| format!("{s} (app {})", a.name))).collect();
    let keys: Vec<&str> = import.apps.iter().filter(|a| a.deploy_key).map(|a| a.name.as_str()).collect();
    let summary = format!(
        "imported stack {} from {source}: {} layer(s), {} app(s), {} instance(s); {} thing(s) not carried over",
        import.name,
        import.layers.len(),
        import.apps.len(),
        import.instances.len(),
        import.left_out.len()
    );
    if args.json {
        let mut answer = serde_json::json!({
            "stack": import.name,
            "output": args.output.as_ref().map(|p| p.display().to_string()),
            "layers": import.layers,
            "apps": import.apps,
            "instances": import.instances,
            "left_out": import.left_out,
            "notes": import.notes,
            "secrets_to_fill_in": secrets,
            "deploy_keys_to_fill_in": keys,
        });
        if args.output.is_none() {
            answer["stack_file"] = serde_json::Value::String(text);
        }
        print_json(&answer);
        return Ok(OK);
    }
    match &args.output {
        Some(path) => {
            eprintln!("{summary}");
            if !secrets.is_empty() || !keys.is_empty() {
                eprintln!(
                    "before applying: export {} and fill in the deploy key path of app(s) [{}] in {}",
                    if secrets.is_empty() { "nothing".to_owned() } else { secrets.join(", ") },
                    keys.join(", "),
                    path.display()
                );
            }
            println!(
                "wrote stack {} to {}; check it, then: drover apply -f {}",
                import.name,
                path.display(),
                path.display()
            );
        }
        None => {
            print!("{text}");
            eprintln!("{summary}");
        }
    }
    Ok(OK)
}
