use clap::Parser;
use gatehouse::{
    audit::Actor,
    aws, build_state,
    catalog::{Catalog, SyncRequest, Syncer},
    config::{AuditCommand, Cli, Command, SyncCatalog},
    db, history, push, seed_demo, seed_scale, serve, tryit,
};
use tracing_subscriber::EnvFilter;

mod memory;

fn main() {
    memory::settle();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(memory::give_back_when_idle)
        .build()
        .expect("the async runtime starts")
        .block_on(serve_or_run());
}

async fn serve_or_run() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,sqlx=warn"));
    // JSON for log collectors: one object per line, with the request's span (its id) on each.
    match std::env::var("GATEHOUSE_LOG_FORMAT").as_deref() {
        Ok("json") => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_env_filter(filter)
            .init(),
        Ok("text") | Ok("") | Err(_) => tracing_subscriber::fmt().with_env_filter(filter).init(),
        Ok(other) => {
            eprintln!("gatehouse: GATEHOUSE_LOG_FORMAT: `{other}` is neither `text` nor `json`");
            std::process::exit(2);
        }
    }
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("gatehouse: {e:#}");
        std::process::exit(1);
    }
}

async fn run(mut cli: Cli) -> anyhow::Result<()> {
    match cli.command.take().unwrap_or(Command::Serve) {
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
        Command::AwsPolicy { boundary } => {
            let document = if boundary {
                app::domain::aws_policy::boundary_document()
            } else {
                let aws = cli.serve.aws()?;
                let push = cli.serve.push.settings()?;
                let mut accounts: Vec<String> =
                    aws.targets.iter().map(|t| t.account_id.clone()).collect();
                accounts.sort();
                accounts.dedup();
                let input = app::domain::aws_policy::PolicyInput {
                    accounts,
                    assumed_roles: aws
                        .targets
                        .iter()
                        .filter_map(|t| t.role_arn.clone())
                        .collect(),
                    boundary: push.permissions_boundary.clone(),
                    bundle: push.access_bundle.clone(),
                    identity_center: aws.targets.iter().any(|t| {
                        t.enforcement == Some(app::domain::enforcement::Enforcement::IdentityCenter)
                    }),
                };
                app::domain::aws_policy::document(&input)
            };
            println!("{}", serde_json::to_string_pretty(&document)?);
            Ok(())
        }
        Command::Ready { url } => {
            let answer = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()?
                .get(&url)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
            let status = answer.status();
            let body = answer.text().await.unwrap_or_default();
            anyhow::ensure!(status.is_success(), "{url}: {status} {}", body.trim());
            println!("{}", body.trim());
            Ok(())
        }
        Command::Openapi => {
            println!("{}", gatehouse::rest::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Migrate => {
            db::migrate_as_owner(&cli.serve.database()?).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::SeedScale { factor } => {
            let database = cli.serve.database()?;
            db::migrate_as_owner(&database).await?;
            let owner = database.owner_url.as_ref().unwrap_or(&database.url);
            let pool = sqlx::PgPool::connect(owner.expose()).await?;
            seed_scale::seed(&pool, &seed_scale::Sizes::at(factor)).await
        }
        Command::SeedDemo => {
            let aws_settings = cli.serve.aws()?;
            seed_demo::seed(&aws::clients(&aws_settings).await).await?;
            if let Some((bucket, key)) = cli.serve.push.settings()?.access_bundle {
                let publisher =
                    push::bundle::BundlePublisher::new(&aws_settings, bucket.clone(), key).await;
                publisher
                    .ensure_bucket()
                    .await
                    .map_err(anyhow::Error::msg)?;
                println!("S3 bucket {bucket} for the access bundle is there");
            }
            let identity_center = aws_settings.targets.iter().any(|t| {
                t.enforcement == Some(app::domain::enforcement::Enforcement::IdentityCenter)
            });
            match (
                identity_center,
                &aws_settings.endpoint_url,
                &cli.serve.directory.directory_file,
            ) {
                (true, Some(endpoint), Some(file)) => {
                    seed_demo::provision_directory(endpoint.as_str(), file).await
                }
                _ => Ok(()),
            }
        }
        Command::Changes {
            file,
            service,
            submit,
            json,
        } => {
            let service = app::domain::api_token::service_name(&service)
                .map_err(|e| anyhow::anyhow!("--as: {e}"))?;
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
            };
            // YAML (JSON is YAML too), as `POST /api/v1/change-sets` takes it.
            let mut new: gatehouse::rest::change_sets::NewChangeSet =
                yaml_serde::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            new.submit |= submit;
            let pool = db::open(&cli.serve.database()?).await?;
            let push_settings = cli.serve.push.settings()?;
            let who = app::backend::audit::Actor {
                tid: None,
                oid: Some(app::backend::tokens::service_oid(&service)),
                name: format!("service {service} via the command line"),
            };
            let submitted = new.submit;
            match gatehouse::rest::change_sets::make(&pool, &push_settings, &who, new).await {
                Ok(id) => {
                    let state = if submitted { "submitted" } else { "draft" };
                    if json {
                        println!("{}", serde_json::json!({ "id": id, "state": state }));
                    } else {
                        println!("change set {id}: {state}");
                    }
                    Ok(())
                }
                Err(problem) => {
                    if json {
                        println!("{}", serde_json::to_string(&problem)?);
                    } else {
                        eprintln!("refused: {}", problem.detail);
                        for e in &problem.errors {
                            eprintln!("  {}: {}", e.field, e.message);
                        }
                    }
                    std::process::exit(1);
                }
            }
        }
        Command::Plan { change_set, json } => {
            // As `terraform plan -detailed-exitcode`: 2 when a push would make calls.
            if push::cli::print_plan(&pusher(&cli).await?, change_set, json).await? {
                std::process::exit(2);
            }
            Ok(())
        }
        Command::Push { change_set, json } => {
            push::cli::push(std::sync::Arc::new(pusher(&cli).await?), change_set, json).await
        }
        Command::Audit { command } => match command {
            AuditCommand::Verify {
                export: Some(export),
                manifest: Some(manifest),
                public_key,
                ..
            } => {
                let anchoring = cli.serve.anchoring()?;
                let key = history::cli::verifying_key(public_key.as_deref(), anchoring.as_deref())?;
                history::cli::verify_export(&export, &manifest, key)
            }
            AuditCommand::Verify {
                public_key,
                anchors,
                ..
            } => {
                let anchoring = cli.serve.anchoring()?;
                let key = history::cli::verifying_key(public_key.as_deref(), anchoring.as_deref())?;
                let anchors = anchors
                    .map(history::anchor::AnchorFile)
                    .or_else(|| anchoring.as_ref().map(|a| a.file.clone()));
                let pool = db::open(&cli.serve.database()?).await?;
                history::cli::verify_database(&pool, key, anchors).await
            }
            AuditCommand::Keygen { out } => history::cli::keygen(&out),
            AuditCommand::Checkpoint => {
                let anchoring = cli.serve.anchoring()?.ok_or_else(|| {
                    anyhow::anyhow!(
                        "GATEHOUSE_AUDIT_KEY_FILE and GATEHOUSE_AUDIT_ANCHOR_FILE are not set"
                    )
                })?;
                let pool = db::open(&cli.serve.database()?).await?;
                match anchoring.checkpoint(&pool).await? {
                    Some(c) => println!("checkpoint written: event {} ({})", c.seq, c.hash),
                    None => println!("the newest checkpoint already holds the chain's head"),
                }
                Ok(())
            }
            AuditCommand::Export {
                from,
                to,
                actor,
                action,
                change_set,
                mentions,
                campaign,
                format,
                out,
            } => {
                let pool = db::open(&cli.serve.database()?).await?;
                let filter = app::history::HistoryFilter {
                    from,
                    to,
                    actor,
                    action,
                    change_set,
                    mentions,
                    campaign,
                };
                history::cli::export(
                    &pool,
                    cli.serve.anchoring()?.as_deref(),
                    filter,
                    &format,
                    &out,
                )
                .await
            }
        },
        Command::Drift { json } => push::cli::drift(&pusher(&cli).await?, json).await,
        Command::Authorize {
            token,
            person,
            api,
            stage,
            method,
            path,
        } => {
            let route = app::tryit::TryRoute {
                api_id: api,
                stage,
                method,
                path,
            };
            let route = tryit::check(&route).map_err(|e| anyhow::anyhow!("{e}"))?;
            let pool = db::open(&cli.serve.database()?).await?;
            let asker = match (token, person) {
                (Some(token), _) => {
                    let (issuer, tenants, audiences) = cli.serve.api_tokens()?;
                    let checks = tryit::token_settings(issuer.as_str(), &tenants, &audiences);
                    tryit::caller_of(issuer.as_str(), checks, &token)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?
                }
                (None, Some(person)) => tryit::person_groups(&pool, &person)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                (None, None) => anyhow::bail!("give --token or --person"),
            };
            let outcome = tryit::explain(&pool, &asker, &route)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}: {} {} on stage {} of API {}",
                if outcome.allowed {
                    "ALLOWED"
                } else {
                    "REFUSED"
                },
                route.method,
                route.path,
                route.stage,
                route.api_id
            );
            println!("  {}", outcome.reason);
            for link in &outcome.chain {
                println!("  - {link}");
            }
            println!("  decided on {}", outcome.bundle);
            if !outcome.allowed {
                std::process::exit(4);
            }
            Ok(())
        }
        Command::Explain {
            person,
            method,
            path,
            api,
            stage,
            json,
        } => {
            let route = app::tryit::TryRoute {
                api_id: api,
                stage,
                method,
                path,
            };
            let route = tryit::check(&route).map_err(|e| anyhow::anyhow!("{e}"))?;
            let pool = db::open(&cli.serve.database()?).await?;
            let who = app::backend::person_access::find_one(&pool, &person)
                .await?
                .map_err(|e| anyhow::anyhow!(e))?;
            let desired = {
                let mut conn = pool.acquire().await?;
                app::backend::mappings::store::desired_state(&mut conn).await?
            };
            let e = app::backend::person_access::explain(
                &pool,
                &desired,
                (&who.source, &who.oid),
                &route,
            )
            .await?
            .ok_or_else(|| anyhow::anyhow!("{person} is no longer in the directory"))?;
            if json {
                let out = serde_json::json!({
                    "allowed": e.allowed,
                    "person": {"source": who.source, "object_id": who.oid, "name": who.name},
                    "route": {"api": route.api_id, "stage": route.stage, "method": route.method, "path": route.path},
                    "decided_by": e.decided_by,
                    "chain": e.chain,
                });
                println!("{out}");
            } else {
                println!(
                    "{}: {} may {}call {} {} on stage {} of API {}",
                    if e.allowed { "ALLOWED" } else { "REFUSED" },
                    who.name,
                    if e.allowed { "" } else { "not " },
                    route.method,
                    route.path,
                    route.stage,
                    route.api_id
                );
                println!("  decided by: {}", e.decided_by);
                for link in &e.chain {
                    println!("  - {link}");
                }
            }
            if !e.allowed {
                std::process::exit(4);
            }
            Ok(())
        }
        Command::Sync {
            catalog,
            full,
            allow_removals,
        } => {
            let settings = cli.serve.aws()?;
            let directories = cli.serve.directory.settings()?.build()?;
            let pool = db::open(&cli.serve.database()?).await?;
            let mut syncer = Syncer::new(pool, &settings, directories.groups).await;
            syncer.max_removal_percent = directories.max_removal_percent;
            let request = SyncRequest {
                full,
                allow_removals,
            };
            if request != SyncRequest::default() && !matches!(catalog, SyncCatalog::Groups) {
                anyhow::bail!("--full and --allow-removals apply to `gatehouse sync groups` only");
            }
            let actor = Actor::system("command line");
            let mut progress = app::backend::progress::Progress::new(None);
            progress.say(&format!("syncing {catalog:?}").to_lowercase());
            let outcomes = match catalog {
                SyncCatalog::All => syncer.sync_all(&actor).await,
                one => {
                    let catalog = match one {
                        SyncCatalog::Apis => Catalog::Apis,
                        SyncCatalog::Roles => Catalog::Roles,
                        _ => Catalog::Groups,
                    };
                    vec![(catalog, syncer.sync_with(&actor, catalog, request).await)]
                }
            };
            progress.finish();
            let mut failed = false;
            for (catalog, outcome) in outcomes {
                match outcome {
                    Ok(o) => {
                        println!(
                            "{} synced (run {}): {} added, {} changed, {} removed",
                            catalog.name(),
                            o.run_id,
                            o.counts.added,
                            o.counts.changed,
                            o.counts.removed
                        );
                        if let Some(details) = &o.directory {
                            println!("  {}", details.summary());
                        }
                    }
                    Err(e) => {
                        failed = true;
                        eprintln!("{}: {e}", catalog.name());
                    }
                }
            }
            if failed {
                anyhow::bail!("a sync failed");
            }
            Ok(())
        }
    }
}

async fn pusher(cli: &Cli) -> anyhow::Result<push::Pusher> {
    let pool = db::open(&cli.serve.database()?).await?;
    let graph = cli.serve.directory.settings()?.build()?.graph;
    Ok(
        push::Pusher::new(pool, &cli.serve.aws()?, cli.serve.push.settings()?)
            .await
            .with_graph(graph),
    )
}
