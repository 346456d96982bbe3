//! A test proxy in front of moto_server: it names and counts every AWS call that passes, and
//! can answer chosen calls with throttling, a 500, a refusal, a dropped connection or a long
//! silence instead of passing them on.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

#[derive(Clone, Debug)]
pub enum Fault {
    /// AWS's throttling answer (IAM: 400 `Throttling`; API Gateway: 429).
    Throttle,
    /// A 500 from the service.
    ServerError,
    /// A 400 the caller must not retry (`MalformedPolicyDocument` / `BadRequestException`).
    Refuse,
    /// The connection closes without an answer.
    Drop,
    /// Waits this long before passing the call on.
    Hang(Duration),
}

#[derive(Default)]
struct State {
    calls: Vec<String>,
    faults: VecDeque<(String, Fault)>,
}

#[derive(Clone)]
pub struct AwsProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
}

/// The operation a request makes: IAM's `Action=` parameter, or API Gateway's REST route.
fn operation(method: &str, path: &str, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Some(action) = text.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return action.to_string();
    }
    let path = path.split('?').next().unwrap_or(path);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let op = match (method, parts.as_slice()) {
        ("PATCH", ["restapis", _, "resources", _, "methods", _]) => "UpdateMethod",
        ("POST", ["restapis", _, "deployments"]) => "CreateDeployment",
        ("POST", ["restapis", _, "authorizers"]) => "CreateAuthorizer",
        ("GET", ["restapis", _, "authorizers"]) => "GetAuthorizers",
        ("PATCH", ["restapis", _, "authorizers", _]) => "UpdateAuthorizer",
        ("GET", ["restapis", _, "deployments"]) => "GetDeployments",
        ("GET", ["restapis", _, "stages"]) => "GetStages",
        ("GET", ["restapis", _, "resources"]) => "GetResources",
        ("GET", ["restapis"]) => "GetRestApis",
        // API Gateway v2 (HTTP APIs).
        ("GET", ["v2", "apis"]) => "GetApis",
        ("GET", ["v2", "apis", _]) => "GetApi",
        ("GET", ["v2", "apis", _, "routes"]) => "GetRoutes",
        ("PATCH", ["v2", "apis", _, "routes", _]) => "UpdateRoute",
        ("GET", ["v2", "apis", _, "stages"]) => "GetStages",
        ("GET", ["v2", "apis", _, "authorizers"]) => "GetAuthorizers",
        ("POST", ["v2", "apis", _, "authorizers"]) => "CreateAuthorizer",
        ("PATCH", ["v2", "apis", _, "authorizers", _]) => "UpdateAuthorizer",
        ("GET", ["v2", "apis", _, "deployments"]) => "GetDeployments",
        ("POST", ["v2", "apis", _, "deployments"]) => "CreateDeployment",
        ("PATCH", ["restapis", _]) => "UpdateRestApi",
        ("GET", ["restapis", _]) => "GetRestApi",
        // S3, path-style: /bucket/key.
        ("PUT", [bucket, _, ..]) if *bucket != "restapis" => "PutObject",
        ("HEAD", [bucket, _, ..]) if *bucket != "restapis" => "HeadObject",
        _ => return format!("{method} {path}"),
    };
    op.to_string()
}

const WRITES: [&str; 17] = [
    "PutObject",
    "UpdateRoute",
    "CreateAuthorizer",
    "UpdateAuthorizer",
    "CreateRole",
    "PutRolePolicy",
    "DeleteRolePolicy",
    "UpdateMethod",
    "CreateDeployment",
    "TagRole",
    "UpdateRestApi",
    "UpdateAssumeRolePolicy",
    "CreatePermissionSet",
    "PutInlinePolicyToPermissionSet",
    "ProvisionPermissionSet",
    "CreateAccountAssignment",
    "DeleteAccountAssignment",
];

/// A made-up answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, &'static str)>, String);

fn answer(fault: &Fault, iam: bool) -> Option<Answer> {
    let iam_error = |code: &str, msg: &str| {
        format!("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>proxy-0001</RequestId></ErrorResponse>")
    };
    match (fault, iam) {
        (Fault::Throttle, true) => Some((
            400,
            vec![("content-type", "text/xml")],
            iam_error("Throttling", "Rate exceeded"),
        )),
        (Fault::Throttle, false) => Some((
            429,
            vec![
                ("x-amzn-errortype", "TooManyRequestsException"),
                ("content-type", "application/json"),
            ],
            "{\"message\":\"Too Many Requests\"}".into(),
        )),
        (Fault::ServerError, true) => Some((
            500,
            vec![("content-type", "text/xml")],
            iam_error("ServiceFailure", "internal error"),
        )),
        (Fault::ServerError, false) => Some((
            500,
            vec![
                ("x-amzn-errortype", "InternalFailure"),
                ("content-type", "application/json"),
            ],
            "{\"message\":\"internal error\"}".into(),
        )),
        (Fault::Refuse, true) => Some((
            400,
            vec![("content-type", "text/xml")],
            iam_error("MalformedPolicyDocument", "Syntax errors in policy."),
        )),
        (Fault::Refuse, false) => Some((
            400,
            vec![
                ("x-amzn-errortype", "BadRequestException"),
                ("content-type", "application/json"),
            ],
            "{\"message\":\"Invalid patch path\"}".into(),
        )),
        _ => None,
    }
}

impl AwsProxy {
    pub async fn start(upstream: &str) -> AwsProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = AwsProxy {
            url: format!("http://{}", listener.local_addr().unwrap()),
            state: Arc::default(),
        };
        let (state, upstream) = (proxy.state.clone(), upstream.to_string());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            while let Ok((conn, _)) = listener.accept().await {
                let (state, upstream, client) = (state.clone(), upstream.clone(), client.clone());
                tokio::spawn(async move {
                    let _ = serve(conn, state, &upstream, &client).await;
                });
            }
        });
        proxy
    }

    /// The next call of `op` meets `fault` (queued in order).
    pub fn fault(&self, op: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .push_back((op.to_string(), fault));
    }

    /// Every call seen, in order (failed attempts included).
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn count(&self, op: &str) -> usize {
        self.calls().iter().filter(|c| *c == op).count()
    }

    pub fn writes(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| WRITES.contains(&c.as_str()))
            .collect()
    }
}

async fn serve(
    conn: TcpStream,
    state: Arc<Mutex<State>>,
    upstream: &str,
    client: &reqwest::Client,
) -> std::io::Result<()> {
    let (read, mut write) = conn.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut words = line.split_whitespace();
        let (method, path) = (
            words.next().unwrap_or("GET").to_string(),
            words.next().unwrap_or("/").to_string(),
        );
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((name, value)) = h.split_once(':') {
                let (name, value) = (name.trim().to_string(), value.trim().to_string());
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                }
                headers.push((name, value));
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        // JSON services (Identity Center, the identity store) name the operation in a header.
        let target = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-target"))
            .and_then(|(_, v)| v.rsplit('.').next().map(String::from));
        let op = target.unwrap_or_else(|| operation(&method, &path, &body));
        let fault = {
            let mut s = state.lock().unwrap();
            s.calls.push(op.clone());
            let at = s.faults.iter().position(|(o, _)| *o == op);
            at.and_then(|i| s.faults.remove(i)).map(|(_, f)| f)
        };
        let iam = String::from_utf8_lossy(&body).contains("Action=");
        match &fault {
            Some(Fault::Drop) => return Ok(()),
            Some(Fault::Hang(d)) => tokio::time::sleep(*d).await,
            _ => {}
        }
        let (status, out_headers, out_body) = match fault.as_ref().and_then(|f| answer(f, iam)) {
            Some((status, h, b)) => (
                status,
                h.into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                b.into_bytes(),
            ),
            None => {
                let mut req = client.request(method.parse().unwrap(), format!("{upstream}{path}"));
                for (name, value) in &headers {
                    if !["host", "content-length", "connection"]
                        .contains(&name.to_lowercase().as_str())
                    {
                        req = req.header(name, value);
                    }
                }
                let resp = match req.body(body).send().await {
                    Ok(r) => r,
                    Err(_) => return Ok(()),
                };
                let status = resp.status().as_u16();
                let h: Vec<(String, String)> = resp
                    .headers()
                    .iter()
                    .filter(|(k, _)| {
                        !["content-length", "transfer-encoding", "connection"].contains(&k.as_str())
                    })
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
                    .collect();
                let b = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                (status, h, b)
            }
        };
        let mut head = format!(
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n",
            out_body.len()
        );
        for (k, v) in out_headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        write.write_all(head.as_bytes()).await?;
        write.write_all(&out_body).await?;
        write.flush().await?;
    }
}
