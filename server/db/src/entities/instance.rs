use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instances")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub authority: String,
    pub state: String,
    pub consecutive_failures: i32,
    pub failing_since: Option<DateTimeUtc>,
    pub last_failure_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub next_probe_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
