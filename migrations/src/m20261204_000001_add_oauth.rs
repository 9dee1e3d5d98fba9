//! OAuth 2 for Mastodon apps: the registered client apps (with the hash of their app-only
//! token, from the client credentials grant), and the one-time authorization codes an
//! owner's consent makes (kept hashed, for ten minutes, used once). The access tokens of
//! channels are Herald's API tokens, in `tokens`.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000001_add_oauth"
    }
}

#[derive(DeriveIden)]
enum OauthApps {
    Table,
    Id,
    ClientId,
    ClientSecret,
    Name,
    Website,
    RedirectUris,
    Scopes,
    AppTokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    CodeHash,
    AppId,
    ChannelId,
    Scopes,
    RedirectUri,
    CodeChallenge,
    TokenExpiresAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthApps::Table)
                    .col(
                        ColumnDef::new(OauthApps::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OauthApps::ClientId)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(OauthApps::ClientSecret).string().not_null())
                    .col(ColumnDef::new(OauthApps::Name).string().not_null())
                    .col(ColumnDef::new(OauthApps::Website).string())
                    .col(ColumnDef::new(OauthApps::RedirectUris).text().not_null())
                    .col(ColumnDef::new(OauthApps::Scopes).string().not_null())
                    .col(
                        ColumnDef::new(OauthApps::AppTokenHash)
                            .string()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(OauthApps::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthCodes::Table)
                    .col(
                        ColumnDef::new(OauthCodes::CodeHash)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OauthCodes::AppId).big_integer().not_null())
                    .col(
                        ColumnDef::new(OauthCodes::ChannelId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OauthCodes::Scopes).string().not_null())
                    .col(ColumnDef::new(OauthCodes::RedirectUri).text().not_null())
                    .col(ColumnDef::new(OauthCodes::CodeChallenge).string())
                    .col(ColumnDef::new(OauthCodes::TokenExpiresAt).timestamp_with_time_zone())
                    .col(
                        ColumnDef::new(OauthCodes::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OauthCodes::UsedAt).timestamp_with_time_zone())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OauthCodes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OauthApps::Table).to_owned())
            .await
    }
}
