//! Request extractors: the request's language (`?lang=`, then `Accept-Language`, French by
//! default), JSON bodies whose rejections become problems,
//! and the client's address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::Json;
use serde::de::DeserializeOwned;

use crate::i18n::Lang;
use crate::problem::ApiError;

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Self::Rejection> {
        Ok(Lang::from_request_head(&parts.uri, &parts.headers))
    }
}

/// A JSON body; a malformed one is a 400, a wrong shape a 422, a wrong type a 415.
pub struct ReqJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ReqJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ReqJson(value)),
            Err(rejection) => Err(ApiError::from(rejection)),
        }
    }
}

/// The address the request came from (the TCP peer).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientIp, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        Ok(ClientIp(ip))
    }
}
