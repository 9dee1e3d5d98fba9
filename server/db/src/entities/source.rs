use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel_id: i64,
    pub url: String,
    pub template: String,
    pub interval_secs: i32,
    pub initial_entries: i32,
    pub max_per_poll: i32,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_poll_at: DateTimeUtc,
    pub last_polled_at: Option<DateTimeUtc>,
    pub polls: i64,
    pub failures: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub hub: Option<String>,
    pub topic: Option<String>,
    pub websub_secret: Option<String>,
    pub websub_state: Option<String>,
    pub websub_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
