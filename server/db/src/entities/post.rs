use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub channel_id: i64,
    pub source: String,
    pub content_html: String,
    pub summary: Option<String>,
    pub language: Option<String>,
    pub sensitive: bool,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub updated_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub visibility: String,
    pub scheduled_at: Option<DateTimeUtc>,
    pub pinned_at: Option<DateTimeUtc>,
    pub tags: Option<String>,
    pub mentions: Option<String>,
    pub policy: Option<String>,
    pub signature: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
