//! People who run channels: users (an email, a display name, an argon2id password hash),
//! their role in each channel (`memberships`), server-side console sessions (kept by the
//! hash of the cookie, with an expiry and the session's CSRF secret), one-time sign-in
//! links (hashed), and each channel's audit log. API tokens may now belong to a person
//! (`tokens.user_id`, and so carry that person's role; so do the apps' tokens an
//! OAuth code of theirs makes, `oauth_codes.user_id`) and have a label; channels may sign
//! posts with their author's name (`channels.sign_posts`, `posts.signature`).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000002_add_people"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    DisplayName,
    PasswordHash,
    DisabledAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    ChannelId,
    UserId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    UserId,
    Csrf,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum SignInLinks {
    Table,
    TokenHash,
    UserId,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ChannelId,
    ActorUserId,
    Actor,
    Action,
    Target,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tokens {
    Table,
    UserId,
    Label,
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    SignPosts,
}

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    UserId,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Signature,
}

async fn add_column<T: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    mut column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(&mut column)
                .to_owned(),
        )
        .await
}

async fn drop_column<T: IntoIden + 'static, C: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    column: C,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

fn timestamp<C: IntoIden>(column: C) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.timestamp_with_time_zone().not_null();
    def
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(
                        ColumnDef::new(Users::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Users::Email)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Users::DisplayName).string().not_null())
                    .col(ColumnDef::new(Users::PasswordHash).string())
                    .col(ColumnDef::new(Users::DisabledAt).timestamp_with_time_zone())
                    .col(timestamp(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(
                        ColumnDef::new(Memberships::ChannelId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Memberships::UserId).big_integer().not_null())
                    .col(ColumnDef::new(Memberships::Role).string_len(16).not_null())
                    .col(timestamp(Memberships::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Memberships::ChannelId)
                            .col(Memberships::UserId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("memberships_by_user")
                    .table(Memberships::Table)
                    .col(Memberships::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(
                        ColumnDef::new(Sessions::IdHash)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Sessions::UserId).big_integer().not_null())
                    .col(ColumnDef::new(Sessions::Csrf).string().not_null())
                    .col(timestamp(Sessions::CreatedAt))
                    .col(timestamp(Sessions::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_by_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SignInLinks::Table)
                    .col(
                        ColumnDef::new(SignInLinks::TokenHash)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SignInLinks::UserId).big_integer().not_null())
                    .col(timestamp(SignInLinks::ExpiresAt))
                    .col(ColumnDef::new(SignInLinks::UsedAt).timestamp_with_time_zone())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(
                        ColumnDef::new(AuditLog::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditLog::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(AuditLog::ActorUserId).big_integer())
                    .col(ColumnDef::new(AuditLog::Actor).string().not_null())
                    .col(ColumnDef::new(AuditLog::Action).string_len(32).not_null())
                    .col(ColumnDef::new(AuditLog::Target).string().not_null())
                    .col(timestamp(AuditLog::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_by_channel")
                    .table(AuditLog::Table)
                    .col(AuditLog::ChannelId)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        add_column(
            manager,
            Tokens::Table,
            ColumnDef::new(Tokens::UserId).big_integer().to_owned(),
        )
        .await?;
        add_column(
            manager,
            Tokens::Table,
            ColumnDef::new(Tokens::Label).string().to_owned(),
        )
        .await?;
        add_column(
            manager,
            OauthCodes::Table,
            ColumnDef::new(OauthCodes::UserId).big_integer().to_owned(),
        )
        .await?;
        add_column(
            manager,
            Channels::Table,
            ColumnDef::new(Channels::SignPosts)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        )
        .await?;
        add_column(
            manager,
            Posts::Table,
            ColumnDef::new(Posts::Signature).string().to_owned(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, Posts::Table, Posts::Signature).await?;
        drop_column(manager, Channels::Table, Channels::SignPosts).await?;
        drop_column(manager, OauthCodes::Table, OauthCodes::UserId).await?;
        drop_column(manager, Tokens::Table, Tokens::Label).await?;
        drop_column(manager, Tokens::Table, Tokens::UserId).await?;
        for table in [
            AuditLog::Table.into_iden(),
            SignInLinks::Table.into_iden(),
            Sessions::Table.into_iden(),
            Memberships::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
