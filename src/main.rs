//! `maple-mm`: replays op scripts on the engine and on the real kernel, and compares them.
//!
//! ```text
//! maple-mm run SCRIPT|-       the engine's answer
//! maple-mm kernel SCRIPT|-    the kernel's answer (Linux x86_64)
//! maple-mm diff SCRIPT|-      both, and their difference (exit 1 if they differ)
//! maple-mm fuzz [--seed S] [--count N] ...   random scripts, diffed one by one
//! ```
//!
//! Exit status: 0 when all went well, 1 when the engine and the kernel differ, 2 on an error
//! (a script that cannot be read or parsed, a kernel runner that cannot run here).

use std::io::Read;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};
use maple_mm::gen::{random_script, GenConfig};
use maple_mm::script::{self, diff_outcomes, Outcome, Script};
use maple_mm::{engine, kernel};

/// Replays op scripts on the maple-mm engine and on the real kernel.
#[derive(Parser)]
#[command(name = "maple-mm", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replays a script on the engine and prints its output.
    Run(ScriptArgs),
    /// Performs a script with real system calls in a window of this process and prints what
    /// the kernel did.
    Kernel(ScriptArgs),
    /// Runs a script on both and prints their difference; exit status 1 if they differ.
    Diff(DiffArgs),
    /// Replays a script on the engine and explains each op: the areas it created, changed
    /// and removed, and why touching areas stayed apart.
    Explain(ScriptArgs),
    /// Generates seeded random scripts and diffs each; stops at the first mismatch.
    Fuzz(FuzzArgs),
    /// Prints the random script that `fuzz` generates for one seed.
    Gen(GenArgs),
}

#[derive(Args)]
struct ScriptArgs {
    /// The op script, or `-` for standard input.
    script: String,
    /// Echo each op's text after a tab, as the recorded scenario outputs do.
    #[arg(long)]
    echo: bool,
}

#[derive(Args)]
struct DiffArgs {
    /// The op script, or `-` for standard input.
    script: String,
    /// Also print the engine's output (with each op's text) before the verdict.
    #[arg(long)]
    show: bool,
}

#[derive(Args)]
struct FuzzArgs {
    /// The first seed (default: from the clock); script i uses seed + i.
    #[arg(long)]
    seed: Option<u64>,
    /// How many scripts.
    #[arg(long, default_value_t = 100)]
    count: u64,
    #[command(flatten)]
    shape: ShapeArgs,
}

/// The shape of generated scripts.
#[derive(Args)]
struct ShapeArgs {
    /// Smallest window, in pages.
    #[arg(long, default_value_t = 64)]
    window_min: u64,
    /// Largest window, in pages.
    #[arg(long, default_value_t = 128)]
    window_max: u64,
    /// Fewest ops per script.
    #[arg(long, default_value_t = 40)]
    ops_min: usize,
    /// Most ops per script.
    #[arg(long, default_value_t = 200)]
    ops_max: usize,
}

#[derive(Args)]
struct GenArgs {
    /// The seed.
    #[arg(long)]
    seed: u64,
    #[command(flatten)]
    shape: ShapeArgs,
}

/// An error that ends the program with exit status 2.
struct Failure(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => load(&args.script).map(|script| {
            print!("{}", engine::run(&script).render(args.echo.then_some(&script)));
            ExitCode::SUCCESS
        }),
        Command::Kernel(args) => load(&args.script).and_then(|script| {
            let outcome = kernel_run(&script)?;
            print!("{}", outcome.render(args.echo.then_some(&script)));
            Ok(ExitCode::SUCCESS)
        }),
        Command::Explain(args) => load(&args.script).map(|script| {
            print!("{}", maple_mm::explain::explain(&script));
            ExitCode::SUCCESS
        }),
        Command::Diff(args) => load(&args.script).and_then(|script| diff(&script, args.show)),
        Command::Fuzz(args) => fuzz(&args),
        Command::Gen(args) => args.shape.config().map(|config| {
            print!("{}", random_script(args.seed, &config));
            ExitCode::SUCCESS
        }),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("maple-mm: {message}");
            ExitCode::from(2)
        }
    }
}

impl ShapeArgs {
    fn config(&self) -> Result<GenConfig, Failure> {
        let config = GenConfig {
            window_min: self.window_min,
            window_max: self.window_max,
            ops_min: self.ops_min,
            ops_max: self.ops_max,
        };
        config.check().map_err(Failure)?;
        Ok(config)
    }
}

/// Reads and parses the script at `path` (`-`: standard input).
fn load(path: &str) -> Result<Script, Failure> {
    let (name, text) = if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| Failure(format!("reading standard input: {error}")))?;
        ("<stdin>".to_string(), text)
    } else {
        let text = std::fs::read_to_string(path).map_err(|error| Failure(format!("{path}: {error}")))?;
        (path.to_string(), text)
    };
    script::parse(&text).map_err(|error| Failure(format!("{name}: {error}")))
}

fn kernel_run(script: &Script) -> Result<Outcome, Failure> {
    kernel::run(script).map_err(|error| Failure(error.to_string()))
}

/// The engine's outcome, or the panic message if it panicked.
fn engine_run(script: &Script) -> Result<Outcome, String> {
    panic::catch_unwind(AssertUnwindSafe(|| engine::run(script))).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string())
    })
}

/// Compares the kernel and the engine on `script`; `None` when they agree, else a report.
fn compare(script: &Script) -> Result<Option<String>, Failure> {
    let kernel = kernel_run(script)?;
    Ok(match engine_run(script) {
        Ok(engine) => diff_outcomes(&kernel, &engine, "kernel", "engine"),
        Err(message) => Some(format!("the engine panicked: {message}\n")),
    })
}

fn diff(script: &Script, show: bool) -> Result<ExitCode, Failure> {
    if show {
        print!("{}", maple_mm::engine::run(script).render(Some(script)));
    }
    match compare(script)? {
        None => {
            println!("kernel and engine agree");
            Ok(ExitCode::SUCCESS)
        }
        Some(report) => {
            print!("{report}");
            Ok(ExitCode::from(1))
        }
    }
}

fn fuzz(args: &FuzzArgs) -> Result<ExitCode, Failure> {
    let config = args.shape.config()?;
    let first = args.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |time| time.as_nanos() as u64 ^ u64::from(std::process::id()))
    });
    println!("fuzz: {} scripts from seed {first}", args.count);
    for index in 0..args.count {
        let seed = first.wrapping_add(index);
        let text = random_script(seed, &config);
        let script =
            script::parse(&text).map_err(|error| Failure(format!("seed {seed}: generated script: {error}")))?;
        let report = compare(&script).map_err(|Failure(message)| Failure(format!("seed {seed}: {message}")))?;
        if let Some(report) = report {
            let shape = &args.shape;
            println!(
                "MISMATCH at seed {seed} (reproduce: maple-mm fuzz --seed {seed} --count 1 --window-min {} \
                 --window-max {} --ops-min {} --ops-max {})",
                shape.window_min, shape.window_max, shape.ops_min, shape.ops_max
            );
            println!("--- script");
            print!("{text}");
            println!("--- diff");
            print!("{report}");
            return Ok(ExitCode::from(1));
        }
    }
    println!(
        "fuzz: {} scripts, seeds {first}..={}: kernel and engine agree",
        args.count,
        first.wrapping_add(args.count.saturating_sub(1))
    );
    Ok(ExitCode::SUCCESS)
}
