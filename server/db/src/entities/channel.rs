use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "channels")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub display_name: String,
    pub summary: String,
    pub bot: bool,
    pub public_key_pem: String,
    pub private_key_pem: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub fields: Option<String>,
    pub default_language: Option<String>,
    pub policy: Option<String>,
    pub avatar_id: Option<String>,
    pub header_id: Option<String>,
    pub manually_approves: bool,
    pub sign_posts: bool,
    pub also_known_as: Option<String>,
    pub moved_to: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
