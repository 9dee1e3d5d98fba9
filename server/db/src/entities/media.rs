use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "media")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub channel_id: i64,
    pub post_id: Option<String>,
    pub position: i32,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub width: i32,
    pub height: i32,
    pub blurhash: Option<String>,
    pub description: Option<String>,
    pub focus_x: f64,
    pub focus_y: f64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
