//! The first schema: channels and their keys, API tokens, remote actors and followers,
//! posts, outbound activities, and the fan-out and delivery records of the queue.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000001_create_schema"
    }
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    Id,
    Name,
    DisplayName,
    Summary,
    Bot,
    PublicKeyPem,
    PrivateKeyPem,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Id,
    ChannelId,
    Scopes,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RemoteActors {
    Table,
    Id,
    Uri,
    Inbox,
    SharedInbox,
    PublicKeyPem,
    Authority,
    FetchedAt,
}

#[derive(DeriveIden)]
enum Followers {
    Table,
    Id,
    ChannelId,
    RemoteActorId,
    TargetInbox,
    FollowUri,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    ChannelId,
    Source,
    ContentHtml,
    Summary,
    Language,
    Sensitive,
    CreatedAt,
    PublishedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
    ChannelId,
    Kind,
    PostId,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Fanouts {
    Table,
    Id,
    ActivityId,
    State,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    ActivityId,
    Inbox,
    Authority,
    State,
    Attempts,
    LastStatus,
    LastError,
    CreatedAt,
    UpdatedAt,
}

/// A big-integer surrogate key. sea-query writes it as `bigserial` on PostgreSQL and as
/// `integer primary key autoincrement` on SQLite (the only auto-increment SQLite has).
fn id_column<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn timestamp<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn nullable_timestamp<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn text<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn nullable_text<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

/// UUIDs are stored as their canonical text, which reads the same on both databases.
fn uuid_key<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .string_len(36)
        .not_null()
        .primary_key()
        .to_owned()
}

fn uuid_ref<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).string_len(36).not_null().to_owned()
}

fn foreign_key<F: IntoIden + 'static, T: IntoIden + 'static, C: IntoIden>(
    from: F,
    column: C,
    to: T,
    to_column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(from)
        .from_col(column)
        .to_tbl(to)
        .to_col(to_column)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(
                        ColumnDef::new(Settings::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(Settings::Value))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Channels::Table)
                    .col(id_column(Channels::Id))
                    .col(
                        ColumnDef::new(Channels::Name)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(text(Channels::DisplayName))
                    .col(text(Channels::Summary))
                    .col(ColumnDef::new(Channels::Bot).boolean().not_null())
                    .col(text(Channels::PublicKeyPem))
                    .col(text(Channels::PrivateKeyPem))
                    .col(timestamp(Channels::CreatedAt))
                    .col(timestamp(Channels::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tokens::Table)
                    .col(uuid_key(Tokens::Id))
                    .col(ColumnDef::new(Tokens::ChannelId).big_integer().not_null())
                    .col(text(Tokens::Scopes))
                    .col(timestamp(Tokens::CreatedAt))
                    .col(nullable_timestamp(Tokens::ExpiresAt))
                    .col(nullable_timestamp(Tokens::RevokedAt))
                    .foreign_key(&mut foreign_key(
                        Tokens::Table,
                        Tokens::ChannelId,
                        Channels::Table,
                        Channels::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tokens_channel")
                    .table(Tokens::Table)
                    .col(Tokens::ChannelId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RemoteActors::Table)
                    .col(id_column(RemoteActors::Id))
                    .col(
                        ColumnDef::new(RemoteActors::Uri)
                            .string_len(2048)
                            .not_null()
                            .unique_key(),
                    )
                    .col(text(RemoteActors::Inbox))
                    .col(nullable_text(RemoteActors::SharedInbox))
                    .col(text(RemoteActors::PublicKeyPem))
                    .col(text(RemoteActors::Authority))
                    .col(timestamp(RemoteActors::FetchedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Followers::Table)
                    .col(id_column(Followers::Id))
                    .col(
                        ColumnDef::new(Followers::ChannelId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Followers::RemoteActorId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Followers::TargetInbox)
                            .string_len(2048)
                            .not_null(),
                    )
                    .col(text(Followers::FollowUri))
                    .col(timestamp(Followers::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        Followers::Table,
                        Followers::ChannelId,
                        Channels::Table,
                        Channels::Id,
                    ))
                    .foreign_key(&mut foreign_key(
                        Followers::Table,
                        Followers::RemoteActorId,
                        RemoteActors::Table,
                        RemoteActors::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // One follow per (channel, actor): a repeated Follow is an idempotent upsert.
        manager
            .create_index(
                Index::create()
                    .name("idx_followers_channel_actor")
                    .table(Followers::Table)
                    .col(Followers::ChannelId)
                    .col(Followers::RemoteActorId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Fan-out walks a channel's distinct delivery inboxes in order (keyset pages).
        manager
            .create_index(
                Index::create()
                    .name("idx_followers_channel_inbox")
                    .table(Followers::Table)
                    .col(Followers::ChannelId)
                    .col(Followers::TargetInbox)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_followers_actor")
                    .table(Followers::Table)
                    .col(Followers::RemoteActorId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(uuid_key(Posts::Id))
                    .col(ColumnDef::new(Posts::ChannelId).big_integer().not_null())
                    .col(text(Posts::Source))
                    .col(text(Posts::ContentHtml))
                    .col(nullable_text(Posts::Summary))
                    .col(ColumnDef::new(Posts::Language).string_len(35).null())
                    .col(ColumnDef::new(Posts::Sensitive).boolean().not_null())
                    .col(timestamp(Posts::CreatedAt))
                    .col(nullable_timestamp(Posts::PublishedAt))
                    .col(nullable_timestamp(Posts::UpdatedAt))
                    .col(nullable_timestamp(Posts::DeletedAt))
                    .foreign_key(&mut foreign_key(
                        Posts::Table,
                        Posts::ChannelId,
                        Channels::Table,
                        Channels::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // Lists and the outbox page a channel's posts newest first; UUIDv7 ids sort by time.
        manager
            .create_index(
                Index::create()
                    .name("idx_posts_channel_id")
                    .table(Posts::Table)
                    .col(Posts::ChannelId)
                    .col(Posts::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Activities::Table)
                    .col(uuid_key(Activities::Id))
                    .col(
                        ColumnDef::new(Activities::ChannelId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Activities::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Activities::PostId).string_len(36).null())
                    .col(text(Activities::Payload))
                    .col(timestamp(Activities::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        Activities::Table,
                        Activities::ChannelId,
                        Channels::Table,
                        Channels::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Fanouts::Table)
                    .col(id_column(Fanouts::Id))
                    .col(uuid_ref(Fanouts::ActivityId).unique_key())
                    .col(ColumnDef::new(Fanouts::State).string_len(16).not_null())
                    .col(timestamp(Fanouts::CreatedAt))
                    .col(nullable_timestamp(Fanouts::FinishedAt))
                    .foreign_key(&mut foreign_key(
                        Fanouts::Table,
                        Fanouts::ActivityId,
                        Activities::Table,
                        Activities::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_fanouts_state")
                    .table(Fanouts::Table)
                    .col(Fanouts::State)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .col(id_column(Deliveries::Id))
                    .col(uuid_ref(Deliveries::ActivityId))
                    .col(
                        ColumnDef::new(Deliveries::Inbox)
                            .string_len(2048)
                            .not_null(),
                    )
                    .col(text(Deliveries::Authority))
                    .col(ColumnDef::new(Deliveries::State).string_len(16).not_null())
                    .col(ColumnDef::new(Deliveries::Attempts).integer().not_null())
                    .col(ColumnDef::new(Deliveries::LastStatus).integer().null())
                    .col(nullable_text(Deliveries::LastError))
                    .col(timestamp(Deliveries::CreatedAt))
                    .col(timestamp(Deliveries::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        Deliveries::Table,
                        Deliveries::ActivityId,
                        Activities::Table,
                        Activities::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // One delivery per (activity, inbox): re-expanding a fan-out after a crash inserts
        // nothing twice.
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_activity_inbox")
                    .table(Deliveries::Table)
                    .col(Deliveries::ActivityId)
                    .col(Deliveries::Inbox)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_state")
                    .table(Deliveries::Table)
                    .col(Deliveries::State)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Deliveries::Table.into_iden(),
            Fanouts::Table.into_iden(),
            Activities::Table.into_iden(),
            Posts::Table.into_iden(),
            Followers::Table.into_iden(),
            RemoteActors::Table.into_iden(),
            Tokens::Table.into_iden(),
            Channels::Table.into_iden(),
            Settings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
