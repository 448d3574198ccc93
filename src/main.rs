//! `maple-mm`: replays op scripts on the engine and on the real kernel, and compares them.
//!
//! ```text
//! maple-mm run SCRIPT|-       the engine's answer
//! maple-mm kernel SCRIPT|-    the kernel's answer (Linux x86_64)
//! maple-mm diff SCRIPT|-      both, and their difference (exit 1 if they differ)
//! maple-mm fuzz [--seed S] [--count N] ...   random scripts, diffed one by one
//! maple-mm replay TRACE --initial MAPS [--final MAPS]   a real program's strace log
//! maple-mm report INPUT [--initial MAPS ...] -o FILE.html   an HTML page of its history
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
use maple_mm::report::History;
use maple_mm::script::{self, diff_outcomes, Outcome, Script};
use maple_mm::{engine, kernel, replay, trace};

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
    /// Performs a script with real system calls in a window of a child process (forked for the
    /// script) and prints what the kernel did.
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
    /// Replays a real program's strace log (strace -f -y -e trace=%memory,%process) from its
    /// layout at the first instruction, and compares every call's result, and with --final
    /// the layout at its exit, with what Linux did. Exit status 0 when all is identical, 1
    /// when anything differs, 2 when the input cannot be read.
    Replay(ReplayArgs),
    /// Writes an HTML page of an address space and how it got there: the history of the
    /// area count and mapped bytes across ops, the map at any op (a slider picks it), and
    /// the merge story. INPUT is an op script (with --kernel, compared with the kernel), or
    /// with --initial a real program's strace log replayed as `replay` does (with --final,
    /// compared with Linux's final layout); differences are marked on the map. One
    /// self-contained file: no network access. How to read it: docs/report.md.
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
}

/// `report --help`'s closing text: how to read the page.
const REPORT_HELP: &str = "\
Reading the page:
  History chart   areas (solid, left scale) and mapped bytes (dashed, right scale) after each
                  op; green ticks: merges, orange ticks: splits, red dots: an op whose result
                  differs from Linux's. Click it, or use the slider, buttons or arrow keys, to
                  redraw the map at an op.
  Overview        the areas to scale along one line, unmapped stretches over 64 MiB cut
                  out (marked with a wavy equals sign).
  The map         one bar per area, lowest address first; heights grow with the log of the
                  size; dashed lines are unmapped gaps (compressed); colours tell the kind
                  (file, shared, anonymous, stack, heap, special), paler is read-only, faint no
                  access, red outline executable, thick outline changed by the op; a circle
                  between touching bars: kept apart (hover for the rule). Hover a bar for its
                  maps line, VmFlags, size and the op that last changed it.
  Merge story     merges by case (merge_new_range left/right/both, merge_existing_range's five
                  cases), splits and unmaps with links to their ops; touching areas left apart
                  at the end and the rule; with --final or --kernel, the differences from
                  Linux.

Examples:
  maple-mm report tests/kernel-cases/scenarios/04_mprotect_back_remerge.ops --kernel -o remerge.html
  maple-mm report tests/traces/py_threads.strace --initial tests/traces/py_threads.initial.smaps \\
      --final tests/traces/py_threads.final.smaps -o py_threads.html";

#[derive(Args)]
struct ReportArgs {
    /// The op script, or with --initial the strace log.
    input: String,
    /// The HTML file to write.
    #[arg(short = 'o', long = "output")]
    output: String,
    /// The process's /proc/PID/maps or smaps at its first instruction (smaps gives the real
    /// VmFlags); makes INPUT a strace log.
    #[arg(long)]
    initial: Option<String>,
    /// For an op script: also perform it with real system calls (as `kernel` does) and mark
    /// where the kernel's results and final areas differ from the engine's.
    #[arg(long, conflicts_with = "initial")]
    kernel: bool,
    #[command(flatten)]
    options: ReplayOptions,
}

/// A replay's options, shared by `replay` and `report`.
#[derive(Args)]
struct ReplayOptions {
    /// Its maps or smaps when the main process entered exit_group, to compare the layout
    /// (with smaps, VmFlags are compared too).
    #[arg(long = "final", requires = "initial")]
    final_maps: Option<String>,
    /// The stack limit in bytes the program ran with (RLIMIT_STACK: places mmap_base as
    /// Linux does with address randomisation off).
    #[arg(long, default_value_t = 8 << 20)]
    stack_limit: u64,
    /// mmap_base itself (hexadecimal with 0x, or decimal), overriding the one the stack limit
    /// gives.
    #[arg(long, value_parser = parse_address)]
    mmap_base: Option<u64>,
    /// Which pages the program is taken to have written (faults are not in the log):
    /// `write-new` (the first page of every private writable range a call gives it) or
    /// `none`.
    #[arg(long, value_enum, default_value_t = FaultModel::WriteNew)]
    faults: FaultModel,
}

#[derive(Args)]
struct ReplayArgs {
    /// The strace log.
    trace: String,
    /// The process's /proc/PID/maps or smaps at its first instruction (smaps gives the real
    /// VmFlags).
    #[arg(long)]
    initial: String,
    #[command(flatten)]
    options: ReplayOptions,
    /// Print each call's effect on the areas (new, changed, merged, gone) and why touching
    /// areas stayed apart, then a summary of merges and splits, before the check.
    #[arg(long)]
    explain: bool,
}

/// `--faults`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum FaultModel {
    WriteNew,
    None,
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
    #[arg(long, conflicts_with = "explain")]
    show: bool,
    /// Also print the engine's explained replay (what each op did to the areas, and why
    /// touching areas stayed apart) before the verdict.
    #[arg(long)]
    explain: bool,
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
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => load(&args.script).and_then(|script| {
            let outcome = engine::run(&script).map_err(|error| Failure(error.to_string()))?;
            print!("{}", outcome.render(args.echo.then_some(&script)));
            Ok(ExitCode::SUCCESS)
        }),
        Command::Kernel(args) => load(&args.script).and_then(|script| {
            let outcome = kernel_run(&script)?;
            print!("{}", outcome.render(args.echo.then_some(&script)));
            Ok(ExitCode::SUCCESS)
        }),
        Command::Explain(args) => load(&args.script).and_then(|script| {
            print!("{}", maple_mm::explain::explain(&script).map_err(|error| Failure(error.to_string()))?);
            Ok(ExitCode::SUCCESS)
        }),
        Command::Diff(args) => load(&args.script).and_then(|script| diff(&script, &args)),
        Command::Fuzz(args) => fuzz(&args),
        Command::Gen(args) => args.shape.config().map(|config| {
            print!("{}", random_script(args.seed, &config));
            ExitCode::SUCCESS
        }),
        Command::Replay(args) => replay(&args),
        Command::Report(args) => report(&args),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("maple-mm: {message}");
            ExitCode::from(2)
        }
    }
}

/// Restores the default action of SIGPIPE, which the Rust runtime ignores: writing to a closed
/// pipe (`maple-mm ... | head`) then ends the program quietly, as it ends other Unix tools,
/// instead of making `print!` panic.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first in main, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
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

/// The engine's outcome; a refused script or a panic (a bug) is a failure to run.
fn engine_run(script: &Script) -> Result<Outcome, Failure> {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| engine::run(script))).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        Failure(format!("the engine panicked (a bug): {message}"))
    })?;
    outcome.map_err(|error| Failure(error.to_string()))
}

/// Compares the kernel with the engine's `engine` outcome of `script`; `None` when they agree,
/// else a report.
fn compare(script: &Script, engine: &Outcome) -> Result<Option<String>, Failure> {
    let kernel = kernel_run(script)?;
    Ok(diff_outcomes(&kernel, engine, "kernel", "engine"))
}

/// What `diff --explain` prints first: how to read what follows.
const LEGEND: &str = "\
# How to read this: each op of the script, then what it did to the areas (VMAs) of the window.
#   Addresses are page numbers in the window (4 KiB pages); [a,b) is pages a to b-1.
#   Perms as in /proc/self/maps: r w x, then p (private) or s (shared).
#   + a new area   ~ an area changed   - an area gone   | two touching areas kept apart, and why
#   op results: ok, ok @page (where it was mapped), err ERRNO, segv @page, sigbus @page.
#   The final `vma` lines: start end perms file-offset (- if anonymous) backing VmFlags,
#   the flags as /proc/self/smaps names them (rd wr ex: access; mr mw me: may-read/write/exec;
#   ac: accounted; gd: grows down; lo: locked; ...; see docs/opscript.md).
";

fn diff(script: &Script, args: &DiffArgs) -> Result<ExitCode, Failure> {
    let engine = engine_run(script)?;
    if args.show {
        print!("{}", engine.render(Some(script)));
    }
    if args.explain {
        let explained = maple_mm::explain::explain(script).map_err(|error| Failure(error.to_string()))?;
        print!("{LEGEND}\n{explained}\n");
    }
    match compare(script, &engine)? {
        None => {
            println!("{}", script::agreement(&engine));
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
        let with_seed = |Failure(message)| Failure(format!("seed {seed}: {message}"));
        let engine = engine_run(&script).map_err(with_seed)?;
        let report = compare(&script, &engine).map_err(with_seed)?;
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

/// `maple-mm replay`.
fn replay(args: &ReplayArgs) -> Result<ExitCode, Failure> {
    let inputs = ReplayInputs::read(&args.trace, &args.initial, &args.options)?;
    let done = if args.explain {
        let (done, text, summary) = replay::explain(&inputs.log, inputs.initial, inputs.faults);
        print!("{text}{summary}");
        done
    } else {
        replay::run(&inputs.log, inputs.initial, inputs.faults)
    };
    let layout = inputs.real_final.map(|real| replay::compare_final(&done, &real));
    print!("{}", replay::render(&done, layout.as_ref()));
    let identical = done.calls.iter().all(|call| call.agrees())
        && done.skipped.is_empty()
        && layout.as_ref().is_none_or(|diff| diff.is_empty());
    Ok(if identical { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `maple-mm report`: the page, written to the output file; the input's own report (a
/// replay's, or the op count) on standard output.
fn report(args: &ReportArgs) -> Result<ExitCode, Failure> {
    let history = match &args.initial {
        Some(initial) => {
            let inputs = ReplayInputs::read(&args.input, initial, &args.options)?;
            let real = inputs.real_final.as_deref();
            History::of_replay(&args.input, &inputs.log, (inputs.initial, inputs.faults), real).0
        }
        None => {
            let script = load(&args.input)?;
            let kernel = if args.kernel { Some(kernel_run(&script)?) } else { None };
            History::of_script(&args.input, &script, kernel.as_ref()).map_err(|error| Failure(error.to_string()))?
        }
    };
    let page = maple_mm::report::page(&history);
    std::fs::write(&args.output, &page).map_err(|error| Failure(format!("{}: {error}", args.output)))?;
    print!("{}", history.verdict);
    println!("wrote {} ({} KiB)", args.output, page.len().div_ceil(1024));
    Ok(ExitCode::SUCCESS)
}

/// A replay's inputs, read and checked.
struct ReplayInputs {
    log: trace::Trace,
    initial: replay::Initial,
    faults: replay::Faults,
    real_final: Option<Vec<trace::MapsArea>>,
}

impl ReplayInputs {
    fn read(trace_path: &str, initial: &str, options: &ReplayOptions) -> Result<ReplayInputs, Failure> {
        let read = |path: &str| std::fs::read_to_string(path).map_err(|error| Failure(format!("{path}: {error}")));
        let maps = |path: &str| trace::parse_maps(&read(path)?).map_err(|error| Failure(format!("{path}: {error}")));
        let log = trace::parse(&read(trace_path)?).map_err(|error| Failure(format!("{trace_path}: {error}")))?;
        let initial = replay::build(&maps(initial)?, options.stack_limit, options.mmap_base)
            .map_err(|error| Failure(format!("{initial}: {error}")))?;
        let faults = match options.faults {
            FaultModel::None => replay::Faults::None,
            FaultModel::WriteNew => replay::Faults::WriteNew,
        };
        let real_final = options.final_maps.as_deref().map(maps).transpose()?;
        Ok(ReplayInputs { log, initial, faults, real_final })
    }
}

/// An address argument: `0x` hexadecimal or decimal.
fn parse_address(text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("`{text}` is not an address (0x... or decimal)"))
}
