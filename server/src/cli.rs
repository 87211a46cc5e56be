//! The `sspr` command line.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use sspr_domain::config::{Config, DEFAULT_KEY_FILE, LEGACY_KEY_FILE};
use sspr_domain::identity::{Login, valid_email};
use sspr_domain::import::import_csv;
use sspr_domain::password::Normalized;
use sspr_domain::secrets::ServerKey;
use sspr_domain::users::{self, CreateUserError, NewUser, Role};
use sspr_domain::{Db, Services, SystemClock, demo};

#[derive(Debug, Parser)]
#[command(name = "sspr", version, about = "Self-service password reset server")]
pub struct Cli {
    /// TOML configuration file (see server/sspr.example.toml).
    #[arg(long, short, env = "SSPR_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve {
        /// Seed a demo organisation into an empty database and print its passwords.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Load and validate the configuration, then exit.
    CheckConfig,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Show or replace the SSPR policy (methods, codes, phone regions).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Check the `[directory]` settings against the directory.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Translators' tools: completeness, gates, XLIFF export and import of
    /// the message catalogs (run in the source tree).
    #[command(subcommand)]
    I18n(crate::i18n_cli::I18nCommand),
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Connect, bind as the service account, look LOGIN up and print what
    /// sspr would see (never a password).
    Test { login: String },
    /// Read every user entry now (paged), refresh the mirrored accounts,
    /// disable those gone from the directory, and print the counts.
    Sync,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the policy in force as JSON.
    Show,
    /// Replace the policy with a JSON file (keys left out keep their defaults).
    Set { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add one user.
    Add(NewAccount),
    /// Import users from a CSV file: columns login, display_name, email,
    /// role (user|admin), groups (;-separated), password_hash (argon2id PHC).
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator (the way to get the first admin outside demo mode).
    Create(NewAccount),
}

#[derive(Debug, Args)]
pub struct NewAccount {
    /// The user ID people sign in with.
    pub login: String,
    /// The name shown in the app and in messages.
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub email: Option<String>,
    /// Groups to add the user to (created when missing).
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// Read the password from the first line of standard input instead of
    /// generating one.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Shortest password accepted from the command line: NIST SP 800-63B-4's
/// minimum for a password that is the account's only factor.
pub const MIN_CLI_PASSWORD_CHARS: usize = 15;

/// The configured key file; for the default path, the key an earlier
/// version left in the database's folder if there is none at it yet.
fn key_path(config: &Config) -> PathBuf {
    let legacy = Path::new(LEGACY_KEY_FILE);
    if config.key_file == Path::new(DEFAULT_KEY_FILE)
        && !config.key_file.exists()
        && legacy.exists()
    {
        tracing::warn!(
            "using the server key in {LEGACY_KEY_FILE}, beside the database; move it to {DEFAULT_KEY_FILE} (or set key_file) so database backups do not carry it"
        );
        return legacy.to_path_buf();
    }
    config.key_file.clone()
}

pub async fn open_services(config: Config) -> anyhow::Result<Services> {
    let db = Db::open(&config.database_url)
        .await
        .context("opening the database")?;
    let has_users = users::count(db.pool())
        .await
        .context("counting the users")?
        > 0;
    let key = ServerKey::open(&key_path(&config), has_users).context("loading the server key")?;
    Ok(Services::new(
        db,
        key,
        config,
        std::sync::Arc::new(SystemClock),
    )?)
}

pub async fn add_account(config: Config, a: NewAccount, role: Role) -> anyhow::Result<()> {
    let login = Login::parse(&a.login).with_context(|| format!("user ID {:?}", a.login))?;
    if let Some(e) = &a.email
        && !valid_email(e)
    {
        bail!("{e:?} is not an email address");
    }
    let groups = a
        .groups
        .iter()
        .map(|g| Login::parse(g).with_context(|| format!("group {g:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (password, generated) = if a.password_stdin {
        (read_password_line()?, false)
    } else {
        (demo::random_password(), true)
    };
    if password.chars().count() < MIN_CLI_PASSWORD_CHARS {
        bail!("the password must have at least {MIN_CLI_PASSWORD_CHARS} characters");
    }
    let s = open_services(config).await?;
    let hash = s.hasher.hash(&Normalized::new(&password)?).await?;
    let user = NewUser {
        login_display: a.login.trim().to_owned(),
        display_name: a.name,
        email: a.email,
        role,
        password_hash: Some(hash),
        locale: None,
    };
    match users::create(&s.db, &login, &user, &groups, s.clock.now()).await {
        Ok(_) => {}
        Err(CreateUserError::Duplicate) => bail!("a user with the ID {:?} already exists", a.login),
        Err(CreateUserError::Domain(e)) => return Err(e.into()),
    }
    println!("Created {} {:?}.", role.as_str(), user.login_display);
    if generated {
        println!("Password (shown once): {password}");
    }
    s.db.close().await;
    Ok(())
}

fn read_password_line() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub async fn import_users(config: Config, file: &Path) -> anyhow::Result<bool> {
    let s = open_services(config).await?;
    let input = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let report = import_csv(&s.db, None, input, s.clock.now()).await?;
    println!("Created {} user(s).", report.created);
    for (line, reason) in &report.rejected {
        println!("{}:{line}: {reason}", file.display());
    }
    s.db.close().await;
    Ok(report.rejected.is_empty())
}

pub async fn policy(config: Config, command: PolicyCommand) -> anyhow::Result<()> {
    let s = open_services(config).await?;
    match command {
        PolicyCommand::Show => {
            let p = sspr_domain::policy::load(&s.db).await?;
            println!("{}", serde_json::to_string_pretty(&p)?);
            // On stderr, so the JSON on stdout stays a valid policy file.
            for note in p.departures() {
                eprintln!("warning: {note}");
            }
        }
        PolicyCommand::Set { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let p: sspr_domain::policy::Policy = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid policy", file.display()))?;
            let version = sspr_domain::policy::save(&s.db, &p, s.clock.now()).await?;
            println!("Policy saved as version {version} (the admin portal's history lists it).");
            for note in p.departures() {
                eprintln!("warning: {note}");
            }
        }
    }
    s.db.close().await;
    Ok(())
}

/// `sspr directory test LOGIN`: each step printed as it passes, so a
/// failure names the step (connection and TLS, service bind, search).
pub async fn directory_test(config: Config, login: &str) -> anyhow::Result<bool> {
    use sspr_domain::directory::Directory;
    let Some(dir) = Directory::new(&config.directory)? else {
        bail!("[directory] kind is \"none\": sspr uses its own accounts");
    };
    dir.ping()
        .await
        .context("connecting and binding as the service account")?;
    println!(
        "ok: {} answers; the service account {} is accepted",
        config.directory.urls.join(", "),
        config.directory.bind_dn
    );
    match dir.find(login).await.context("searching for the login")? {
        None => {
            println!(
                "no single entry matches {login:?} under {}",
                config.directory.base_dn
            );
            Ok(false)
        }
        Some(e) => {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            println!("dn:                 {}", e.dn);
            println!("id:                 {}", e.id);
            println!("login:              {}", e.login);
            println!("display name:       {}", show(&e.display_name));
            println!("email:              {}", show(&e.email));
            println!("mobile:             {}", show(&e.mobile));
            println!("preferred language: {}", show(&e.preferred_language));
            println!("groups:             {}", e.groups.join("; "));
            println!("admin:              {}", e.admin);
            println!("disabled:           {}", e.disabled);
            println!("locked:             {}", e.locked);
            Ok(true)
        }
    }
}

/// `sspr directory sync`: one sync now, its counts as JSON on stdout.
pub async fn directory_sync(config: Config) -> anyhow::Result<bool> {
    let services = open_services(config).await?;
    let started = std::time::Instant::now();
    let report = sspr_domain::directory::sync::run(&services, services.clock.now()).await?;
    println!("{}", serde_json::to_string(&report)?);
    eprintln!("synced in {:.1} s", started.elapsed().as_secs_f64());
    Ok(true)
}
