//! What the inbox keeps: ids of received activities (a replay is processed once),
//! interactions with posts (likes, boosts, reactions: counted, kept only as far as an
//! Undo needs), the servers that interacted with each post (to send them its Update and
//! Delete), replies for the owner to read, reports; and moderation: domain blocks,
//! follow requests awaiting approval, and the channel's manual approval setting.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000004_add_inbound_and_moderation"
    }
}

#[derive(DeriveIden)]
enum ReceivedActivities {
    Table,
    Id,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Interactions {
    Table,
    Id,
    PostId,
    Kind,
    Authority,
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PostReach {
    Table,
    PostId,
    Inbox,
}

#[derive(DeriveIden)]
enum Replies {
    Table,
    Id,
    PostId,
    ChannelId,
    ActorUri,
    Authority,
    ContentHtml,
    Published,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Reports {
    Table,
    Id,
    ActivityUri,
    ChannelId,
    Authority,
    Content,
    Objects,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DomainBlocks {
    Table,
    Id,
    Domain,
    ChannelId,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Followers {
    Table,
    Pending,
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    ManuallyApproves,
}

#[derive(DeriveIden)]
enum RemoteActors {
    Table,
    KeyId,
    AlsoKnownAs,
}

fn text<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn timestamp<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReceivedActivities::Table)
                    .col(
                        ColumnDef::new(ReceivedActivities::Id)
                            .string_len(2048)
                            .not_null()
                            .primary_key(),
                    )
                    .col(timestamp(ReceivedActivities::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_received_activities_time")
                    .table(ReceivedActivities::Table)
                    .col(ReceivedActivities::ReceivedAt)
                    .to_owned(),
            )
            .await?;

        // An interaction is kept by its activity id (what an Undo names), with the post,
        // the kind and the sender's server: no reader.
        manager
            .create_table(
                Table::create()
                    .table(Interactions::Table)
                    .col(
                        ColumnDef::new(Interactions::Id)
                            .string_len(2048)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Interactions::PostId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Interactions::Kind).string_len(16).not_null())
                    .col(text(Interactions::Authority))
                    .col(ColumnDef::new(Interactions::Content).string_len(255).null())
                    .col(timestamp(Interactions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_interactions_post_kind")
                    .table(Interactions::Table)
                    .col(Interactions::PostId)
                    .col(Interactions::Kind)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PostReach::Table)
                    .col(ColumnDef::new(PostReach::PostId).string_len(36).not_null())
                    .col(ColumnDef::new(PostReach::Inbox).string_len(2048).not_null())
                    .primary_key(Index::create().col(PostReach::PostId).col(PostReach::Inbox))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Replies::Table)
                    .col(
                        ColumnDef::new(Replies::Id)
                            .string_len(2048)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Replies::PostId).string_len(36).not_null())
                    .col(ColumnDef::new(Replies::ChannelId).big_integer().not_null())
                    .col(text(Replies::ActorUri))
                    .col(text(Replies::Authority))
                    .col(text(Replies::ContentHtml))
                    .col(
                        ColumnDef::new(Replies::Published)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(timestamp(Replies::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_replies_channel")
                    .table(Replies::Table)
                    .col(Replies::ChannelId)
                    .col(Replies::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Reports::Table)
                    .col(
                        ColumnDef::new(Reports::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Reports::ActivityUri)
                            .string_len(2048)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Reports::ChannelId).big_integer().null())
                    .col(text(Reports::Authority))
                    .col(text(Reports::Content))
                    .col(text(Reports::Objects))
                    .col(timestamp(Reports::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DomainBlocks::Table)
                    .col(
                        ColumnDef::new(DomainBlocks::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DomainBlocks::Domain)
                            .string_len(300)
                            .not_null(),
                    )
                    // NULL: instance-wide.
                    .col(ColumnDef::new(DomainBlocks::ChannelId).big_integer().null())
                    .col(ColumnDef::new(DomainBlocks::Reason).text().null())
                    .col(timestamp(DomainBlocks::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_domain_blocks_domain")
                    .table(DomainBlocks::Table)
                    .col(DomainBlocks::Domain)
                    .col(DomainBlocks::ChannelId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        let mut pending = ColumnDef::new(Followers::Pending)
            .boolean()
            .not_null()
            .default(false)
            .to_owned();
        manager
            .alter_table(
                Table::alter()
                    .table(Followers::Table)
                    .add_column(&mut pending)
                    .to_owned(),
            )
            .await?;
        let mut manual = ColumnDef::new(Channels::ManuallyApproves)
            .boolean()
            .not_null()
            .default(false)
            .to_owned();
        manager
            .alter_table(
                Table::alter()
                    .table(Channels::Table)
                    .add_column(&mut manual)
                    .to_owned(),
            )
            .await?;
        // The id of the key the actor document names, to match a signature's keyId; and
        // its other accounts, to accept a Move.
        for column in [RemoteActors::KeyId, RemoteActors::AlsoKnownAs] {
            let mut column = ColumnDef::new(column).text().null().to_owned();
            manager
                .alter_table(
                    Table::alter()
                        .table(RemoteActors::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [RemoteActors::KeyId, RemoteActors::AlsoKnownAs] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RemoteActors::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Channels::Table)
                    .drop_column(Channels::ManuallyApproves)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Followers::Table)
                    .drop_column(Followers::Pending)
                    .to_owned(),
            )
            .await?;
        for table in [
            DomainBlocks::Table.into_iden(),
            Reports::Table.into_iden(),
            Replies::Table.into_iden(),
            PostReach::Table.into_iden(),
            Interactions::Table.into_iden(),
            ReceivedActivities::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
