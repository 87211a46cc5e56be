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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sspr: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve { demo: false }) {
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
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("sspr: {e:#}");
            ExitCode::FAILURE
        }
    }
}
