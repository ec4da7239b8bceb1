//! The answering side of gRPC server reflection, for test and demo servers that speak
//! gRPC by hand: [`Reflection::answer`] turns a request body (length-prefixed
//! `ServerReflectionRequest`s) into the encoded replies.
use crate::reflection::{
    ErrorResponse, FileDescriptorResponse, ListServiceResponse, MessageRequest, MessageResponse,
    ServerReflectionRequest, ServerReflectionResponse, ServiceResponse,
};
use prost::Message;
use prost_reflect::DescriptorPool;

/// Whether a request path is reflection's (v1 or v1alpha).
pub fn is_reflection_path(path: &str) -> bool {
    let p = path.trim_start_matches('/');
    p == &crate::reflection::V1[1..] || p == &crate::reflection::V1ALPHA[1..]
}

/// What a server declares, for answering reflection requests.
#[derive(Debug)]
pub struct Reflection {
    pool: DescriptorPool,
}

/// A `.proto` given as text, for [`Reflection::from_source`].
struct OneFile {
    name: String,
    source: String,
}

impl protox::file::FileResolver for OneFile {
    fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
        if name == self.name {
            protox::file::File::from_source(name, &self.source)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}

impl Reflection {
    /// Serves the files of `pool`.
    pub fn new(pool: DescriptorPool) -> Reflection {
        Reflection { pool }
    }

    /// Serves `source`, a `.proto` named `name` that imports nothing.
    pub fn from_source(name: &str, source: &str) -> Result<Reflection, String> {
        let mut c = protox::Compiler::with_file_resolver(OneFile {
            name: name.to_string(),
            source: source.to_string(),
        });
        c.include_imports(true);
        c.open_file(name).map_err(|e| e.to_string())?;
        Ok(Reflection::new(c.descriptor_pool()))
    }

    /// The encoded replies (one per request, not length-prefixed) to `body`, the
    /// length-prefixed requests of one reflection stream.
    pub fn answer(&self, body: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut rest = body;
        while rest.len() >= 5 {
            let n = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
            let Some(msg) = rest.get(5..5 + n) else { break };
            rest = &rest[5 + n..];
            let Ok(req) = ServerReflectionRequest::decode(msg) else {
                break;
            };
            out.push(self.reply(req).encode_to_vec());
        }
        out
    }

    fn reply(&self, req: ServerReflectionRequest) -> ServerReflectionResponse {
        let file = |f: prost_reflect::FileDescriptor| {
            // the file and every file it imports, as grpc's own servers send them
            let mut files = vec![f.clone()];
            let mut i = 0;
            while i < files.len() {
                let deps: Vec<_> = files[i].dependencies().collect();
                for d in deps {
                    if !files.iter().any(|x| x.name() == d.name()) {
                        files.push(d);
                    }
                }
                i += 1;
            }
            MessageResponse::FileDescriptorResponse(FileDescriptorResponse {
                file_descriptor_proto: files.iter().map(|f| f.encode_to_vec()).collect(),
            })
        };
        let not_found = |what: &str| {
            MessageResponse::ErrorResponse(ErrorResponse {
                error_code: 5,
                error_message: format!("{what} not found"),
            })
        };
        let answer = match &req.message_request {
            Some(MessageRequest::ListServices(_)) => {
                let mut service: Vec<ServiceResponse> = self
                    .pool
                    .services()
                    .map(|s| ServiceResponse {
                        name: s.full_name().to_string(),
                    })
                    .collect();
                service.push(ServiceResponse {
                    name: "grpc.reflection.v1.ServerReflection".into(),
                });
                MessageResponse::ListServicesResponse(ListServiceResponse { service })
            }
            Some(MessageRequest::FileByFilename(n)) => match self.pool.get_file_by_name(n) {
                Some(f) => file(f),
                None => not_found(n),
            },
            Some(MessageRequest::FileContainingSymbol(s)) => {
                let found = self
                    .pool
                    .get_service_by_name(s)
                    .map(|x| x.parent_file())
                    .or_else(|| self.pool.get_message_by_name(s).map(|m| m.parent_file()))
                    .or_else(|| {
                        // a method: package.Service.Method
                        let (svc, _) = s.rsplit_once('.')?;
                        self.pool.get_service_by_name(svc).map(|x| x.parent_file())
                    });
                match found {
                    Some(f) => file(f),
                    None => not_found(s),
                }
            }
            None => not_found("request"),
        };
        ServerReflectionResponse {
            valid_host: String::new(),
            original_request: Some(req),
            message_response: Some(answer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(q: MessageRequest) -> Vec<u8> {
        let m = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(q),
        }
        .encode_to_vec();
        let mut b = vec![0];
        b.extend((m.len() as u32).to_be_bytes());
        b.extend(m);
        b
    }

    const PROTO: &str = "syntax = \"proto3\"; package p; message A { string x = 1; }
        service S { rpc M(A) returns (A); }";

    #[test]
    fn answers_by_symbol_by_file_and_lists_services() {
        let r = match Reflection::from_source("p.proto", PROTO) {
            Ok(r) => r,
            Err(e) => panic!("compiles: {e}"),
        };
        let mut body = framed(MessageRequest::FileContainingSymbol("p.S".into()));
        body.extend(framed(MessageRequest::ListServices(String::new())));
        body.extend(framed(MessageRequest::FileByFilename("nope.proto".into())));
        let replies: Vec<ServerReflectionResponse> = r
            .answer(&body)
            .iter()
            .filter_map(|b| ServerReflectionResponse::decode(b.as_slice()).ok())
            .collect();
        assert_eq!(replies.len(), 3);
        let files = match &replies[0].message_response {
            Some(MessageResponse::FileDescriptorResponse(f)) => f.file_descriptor_proto.len(),
            _ => 0,
        };
        assert_eq!(files, 1);
        let names: Vec<String> = match &replies[1].message_response {
            Some(MessageResponse::ListServicesResponse(l)) => {
                l.service.iter().map(|s| s.name.clone()).collect()
            }
            _ => vec![],
        };
        assert_eq!(names, ["p.S", "grpc.reflection.v1.ServerReflection"]);
        assert!(matches!(
            &replies[2].message_response,
            Some(MessageResponse::ErrorResponse(e)) if e.error_code == 5
        ));
        assert!(is_reflection_path(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        ));
    }
}
