//! `sspr`: the self-service password reset server.

use std::process::ExitCode;

use clap::Parser;
use sspr_domain::config::Config;
use sspr_domain::users::Role;
use sspr_server::cli::{AdminCommand, Cli, Command, DirectoryCommand, UserCommand};
use sspr_server::{cli, logging, serve};

// argon2 allocates 19 MiB per hash; glibc's allocator kept those buffers
// resident per thread (7.4 GiB with 64 concurrent hashing requests, measured
// on 2 cores); mimalloc returns them (docs/security.md #7).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Threads for blocking work: static files (read through `tokio::fs`) and
/// name lookups. Tokio allows up to 512, each with an allocator heap of its
/// own: 1000 connections asking for a static file grew the server by 125 MiB,
/// with 64 threads by 95 MiB and faster (issue 12). A file read takes
/// microseconds; 64 leave room for slow name lookups beside them.
const BLOCKING_THREADS: usize = 64;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("sspr: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command.unwrap_or(Command::Serve { demo: false }) {
        // The catalog tools work on the source tree: no configuration.
        Command::I18n(c) => return exit_code(sspr_server::i18n_cli::run(c)),
        other => other,
    };
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sspr: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(config.log_format);
    let result = match command {
        Command::Serve { demo } => serve::run(config, demo).await.map(|_| true),
        Command::Migrate => cli::open_services(config).await.map(|_| {
            println!("Migrations applied.");
            true
        }),
        Command::CheckConfig => {
            println!("Configuration is valid.");
            Ok(true)
        }
        Command::User(UserCommand::Add(a)) => {
            cli::add_account(config, a, Role::User).await.map(|_| true)
        }
        Command::User(UserCommand::Import { file }) => cli::import_users(config, &file).await,
        Command::Admin(AdminCommand::Create(a)) => {
            cli::add_account(config, a, Role::Admin).await.map(|_| true)
        }
        Command::Policy(p) => cli::policy(config, p).await.map(|_| true),
        Command::Directory(DirectoryCommand::Test { login }) => {
            cli::directory_test(config, &login).await
        }
        Command::Directory(DirectoryCommand::Sync) => cli::directory_sync(config).await,
        Command::I18n(c) => sspr_server::i18n_cli::run(c),
    };
    exit_code(result)
}

/// Success, "done but not fine" (1), or the error printed.
fn exit_code(result: anyhow::Result<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("sspr: {e:#}");
            ExitCode::FAILURE
        }
    }
}
