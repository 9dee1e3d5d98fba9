use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "followers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel_id: i64,
    pub remote_actor_id: i64,
    pub target_inbox: String,
    pub follow_uri: String,
    pub created_at: DateTimeUtc,
    pub pending: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::remote_actor::Entity",
        from = "Column::RemoteActorId",
        to = "super::remote_actor::Column::Id"
    )]
    RemoteActor,
}

impl Related<super::remote_actor::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RemoteActor.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
