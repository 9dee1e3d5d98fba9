//! The request log: method, route template, status and latency — never the client's
//! address, user agent or the concrete path (which can name a reader's actor). Each
//! request gets an id (the proxy's `X-Request-Id` when it sends a sane one), carried by
//! every log line written while it is handled and returned in `X-Request-Id`; and its
//! latency goes to the metrics by route template.

use crate::metrics::Metrics;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{
    body::MessageBody,
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    Error,
};
use futures::future::{ready, LocalBoxFuture, Ready};
use std::time::Instant;
use tracing::Instrument;

/// The header that carries a request's id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Middleware writing one `http` log line per request at debug level (warn for 5xx).
#[derive(Clone)]
pub struct RequestLog {
    metrics: Metrics,
}

impl RequestLog {
    pub fn new(metrics: Metrics) -> Self {
        RequestLog { metrics }
    }
}

/// The proxy's request id when it is short and plain, else a new random one.
fn request_id(incoming: Option<&HeaderValue>) -> String {
    incoming
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()[..16].to_string())
}

impl<S, B> Transform<S, ServiceRequest> for RequestLog
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = RequestLogService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestLogService {
            service,
            metrics: self.metrics.clone(),
        }))
    }
}

pub struct RequestLogService<S> {
    service: S,
    metrics: Metrics,
}

impl<S, B> Service<ServiceRequest> for RequestLogService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let method = req.method().to_string();
        let id = request_id(req.headers().get(&REQUEST_ID));
        let span = tracing::info_span!("request", id = %id);
        let fut = span.in_scope(|| self.service.call(req));
        let metrics = self.metrics.clone();
        Box::pin(
            async move {
                let mut res = fut.await?;
                let took = started.elapsed();
                let pattern = res.request().match_pattern();
                let status = res.status().as_u16();
                metrics.http_request(&method, pattern.clone(), status, took);
                let route = pattern.unwrap_or_else(|| "(unmatched)".to_string());
                let millis = took.as_secs_f64() * 1000.0;
                if status >= 500 {
                    tracing::warn!(target: "herald::http", %method, %route, status, millis, "request");
                } else {
                    tracing::debug!(target: "herald::http", %method, %route, status, millis, "request");
                }
                if let Ok(value) = HeaderValue::from_str(&id) {
                    res.headers_mut().insert(REQUEST_ID, value);
                }
                Ok(res)
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::request_id;
    use actix_web::http::header::HeaderValue;

    #[test]
    fn a_proxys_plain_id_is_kept_and_anything_else_replaced() {
        let kept = HeaderValue::from_static("req-42_a.b");
        assert_eq!(request_id(Some(&kept)), "req-42_a.b");
        for bad in ["", "has space", "new\tline", &"x".repeat(65)] {
            let value = HeaderValue::from_str(bad).unwrap_or(HeaderValue::from_static("a b"));
            let id = request_id(Some(&value));
            assert_ne!(id, bad);
            assert_eq!(id.len(), 16);
        }
        assert_ne!(request_id(None), request_id(None));
    }
}
