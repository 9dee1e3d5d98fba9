//! Reading an HTML form's body, as browsers and apps send it: `multipart/form-data`
//! (with files) or `application/x-www-form-urlencoded`. Every part is capped as it
//! arrives, so an oversized upload is refused before it is all in memory. Used by the
//! console and by the Mastodon profile change.

use actix_web::{http::header::CONTENT_TYPE, web, HttpRequest};
use futures::StreamExt;

/// The most parts a form may have.
const MAX_PARTS: usize = 64;

/// A read form: its text fields in order, and its files by field name.
#[derive(Debug, Default)]
pub(crate) struct Form {
    pub fields: Vec<(String, String)>,
    pub files: Vec<(String, Vec<u8>)>,
}

impl Form {
    /// The first value of field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of field `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the checkbox `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum FormError {
    /// A file over the upload limit, or text over the body limit; with the text fields
    /// read before it (so a form can be shown again as it was filled in).
    #[error("{message}")]
    TooLarge {
        message: String,
        fields: Vec<(String, String)>,
    },
    #[error("the form could not be read: {0}")]
    Invalid(String),
}

/// Reads the form. Parts named in `file_fields` are files of at most `max_file` bytes
/// (an empty one, a file input left empty, is dropped); the text fields together are at
/// most `max_text` bytes.
pub(crate) async fn read(
    request: &HttpRequest,
    payload: web::Payload,
    file_fields: &[&str],
    max_file: usize,
    max_text: usize,
) -> Result<Form, FormError> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("multipart/form-data") {
        let body = payload
            .to_bytes_limited(max_text)
            .await
            .map_err(|_| FormError::TooLarge {
                message: format!("the form is over {max_text} bytes"),
                fields: Vec::new(),
            })?
            .map_err(|e| FormError::Invalid(e.to_string()))?;
        return Ok(Form {
            fields: url::form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            files: Vec::new(),
        });
    }
    let mut multipart = actix_multipart::Multipart::new(request.headers(), payload);
    let mut form = Form::default();
    let mut text_bytes = 0;
    let mut parts = 0;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| FormError::Invalid(e.to_string()))?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(FormError::Invalid(format!("more than {MAX_PARTS} fields")));
        }
        let name = field.name().unwrap_or_default().to_string();
        let is_file = file_fields.contains(&name.as_str());
        let limit = if is_file {
            max_file
        } else {
            max_text.saturating_sub(text_bytes)
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| FormError::Invalid(e.to_string()))?;
            if bytes.len() + chunk.len() > limit {
                return Err(FormError::TooLarge {
                    message: if is_file {
                        format!("a file is larger than the upload limit of {max_file} bytes")
                    } else {
                        format!("the form's text is over {max_text} bytes")
                    },
                    fields: std::mem::take(&mut form.fields),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_file {
            if !bytes.is_empty() {
                form.files.push((name, bytes));
            }
        } else {
            text_bytes += bytes.len();
            form.fields
                .push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok(form)
}
