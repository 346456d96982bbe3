use clap::Parser;
use gatehouse::{
    audit::Actor,
    aws, build_state,
    catalog::{self, rate_limit::ApiGatewayLimits, Catalog},
    config::{Cli, Command, SyncCatalog},
    db, seed_demo, serve,
};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,sqlx=warn")),
        )
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("gatehouse: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let settings = cli.serve.settings()?;
            let listen = settings.listen;
            let state = build_state(settings).await?;
            let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
                anyhow::anyhow!("cannot listen on {listen} (GATEHOUSE_LISTEN): {e}")
            })?;
            tracing::info!("Gatehouse listening on http://{listen}");
            serve(listener, state).await
        }
        Command::Migrate => {
            let pool = db::connect(&cli.serve.database()?).await?;
            db::migrate(&pool).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::SeedDemo => seed_demo::seed(&aws::clients(&cli.serve.aws()?).await).await,
        Command::Sync { catalog } => {
            let catalog = match catalog {
                SyncCatalog::Apis => Catalog::Apis,
                SyncCatalog::Roles => Catalog::Roles,
            };
            let pool = db::connect(&cli.serve.database()?).await?;
            db::migrate(&pool).await?;
            let aws_settings = cli.serve.aws()?;
            let clients = aws::clients(&aws_settings).await;
            let limits = ApiGatewayLimits::for_endpoint(&aws_settings);
            let actor = Actor::system("command line");
            let target = aws_settings.target();
            let outcome = catalog::sync(&pool, &clients, &target, &limits, &actor, catalog).await?;
            let c = outcome.counts;
            println!(
                "{} catalog synced (run {}): {} added, {} changed, {} removed",
                catalog.name(),
                outcome.run_id,
                c.added,
                c.changed,
                c.removed
            );
            Ok(())
        }
    }
}
