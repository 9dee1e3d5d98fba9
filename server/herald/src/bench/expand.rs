//! `herald bench expand`: how fast a fan-out turns followers into delivery jobs (database
//! pages of distinct inboxes, delivery rows, pipelined XADDs).

use super::{bench_config, bench_env, create_channel, seed_followers, BenchError, Scratch};
use crate::{app::Herald, db, federation::activities::create::build_create};
use chrono::Utc;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct ExpandArgs {
    pub followers: u64,
    pub instances: u64,
    pub database_url: Option<String>,
}

pub async fn expand(args: ExpandArgs) -> Result<(), BenchError> {
    let scratch = Scratch::new()?;
    let env = bench_env(scratch.path(), 8080, args.database_url.as_deref());
    let herald = Herald::start(bench_config(&env)?)
        .await
        .map_err(|e| BenchError::from("start", e))?;
    let db = &herald.state.db;
    let channel = create_channel(db, "bench").await?;
    let seeding = Instant::now();
    seed_followers(db, channel.id, args.followers, args.instances, |_| 9).await?;
    let seed_s = seeding.elapsed().as_secs_f64();

    let new = db::NewPost {
        id: db::PostId::new(),
        channel_id: channel.id,
        body: db::PostBody {
            source: "bench".into(),
            content_html: "<p>bench</p>".into(),
            summary: None,
            language: None,
            sensitive: false,
            visibility: db::Visibility::Public,
            tags: Vec::new(),
            mentions: Vec::new(),
            policy: None,
            signature: None,
            media: Vec::new(),
        },
        created_at: Utc::now(),
        scheduled_at: None,
    };
    let create = build_create(&herald.state.urls, &channel, &new.to_post(), &[], new.id.0);
    let activity = db::NewActivity {
        id: new.id.0,
        channel_id: channel.id,
        kind: db::ActivityKind::Create,
        post_id: Some(new.id),
        payload: serde_json::to_string(&create).map_err(|e| BenchError::from("json", e))?,
    };
    let (_, fanout) = db::publish_post(db, new, activity)
        .await
        .map_err(|e| BenchError::from("post", e))?;
    let worker = herald.worker().map_err(|e| BenchError::from("worker", e))?;
    let started = Instant::now();
    worker
        .expand_fanout(fanout)
        .await
        .map_err(|e| BenchError::from("expand", e))?;
    let seconds = started.elapsed().as_secs_f64();
    let jobs = herald
        .state
        .queue
        .stats()
        .await
        .map_err(|e| BenchError::from("queue", e))?
        .delivery_length;
    let rate = args.followers as f64 / seconds;
    println!(
        "seeded {} followers on {} servers in {seed_s:.1} s",
        args.followers, args.instances
    );
    println!(
        "expanded into {jobs} delivery jobs in {:.0} ms: {rate:.0} followers/s",
        seconds * 1000.0
    );
    println!(
        "{}",
        serde_json::json!({
            "followers": args.followers,
            "instances": args.instances,
            "jobs": jobs,
            "expand_ms": (seconds * 1000.0).round(),
            "followers_per_s": rate.round(),
        })
    );
    Ok(())
}
