"""moto_server, with the parts of IAM Identity Center moto lacks filled in after AWS's documents.

Run with the venv's Python: `python end2end/stack/moto_server.py -H 127.0.0.1 -p PORT` (the same
arguments as moto_server). What this adds, and why:

- Account assignments are asynchronous in AWS: CreateAccountAssignment / DeleteAccountAssignment
  answer `IN_PROGRESS`, and their Describe…Status calls answer `IN_PROGRESS` once more before
  `SUCCEEDED` (moto says `SUCCEEDED` at once, so a caller that never polls would pass).
- ProvisionPermissionSet answers `IN_PROGRESS` and DescribePermissionSetProvisioningStatus
  (missing in moto) answers `SUCCEEDED`.
- ListTagsForResource (missing in moto) answers a permission set's tags.
- SCIM: Entra ID provisions groups into the identity store through Identity Center's SCIM
  endpoint, which sets each group's external id (the Entra object id); the identity store API
  cannot. `POST /scim/v2/Groups` (SCIM 2.0 core Group: `displayName`, `externalId`) creates
  such a group in the identity store of the account/region's Identity Center instance
  (query `region=`, default us-east-1). A duplicate display name answers 409 like SCIM does.
  `POST /scim/v2/Users` (`userName`, `displayName`) provisions a user the same way: Entra ID
  sends the user principal name as `userName`, which GetUserId finds (a duplicate: 409).
- UpdateMethod (missing in moto): API Gateway's JSON-patch subset on a method, as its reference
  documents it — `replace` on /authorizationType, /authorizerId, /apiKeyRequired,
  /operationName, /requestValidatorId; `add`/`remove` on /authorizationScopes (one scope) and
  /requestParameters/NAME and /requestModels/CONTENT~1TYPE (`~1` is `/`, `~0` is `~`); any
  other op or path is a BadRequestException. A request applies all its operations or none, and
  the result must hold: an authorization type among NONE, AWS_IAM, CUSTOM,
  COGNITO_USER_POOLS; CUSTOM needs one of the API's TOKEN or REQUEST authorizers and
  COGNITO_USER_POOLS a COGNITO_USER_POOLS one ("Invalid authorizer ID specified"); NONE and
  AWS_IAM drop the authorizer, as API Gateway does.
- HTTP APIs (API Gateway v2), where moto lacks operations: GetAuthorizers (the API's
  authorizers, as `items`), CreateDeployment and GetDeployments (a deployment made for a stage
  becomes the stage's `deploymentId`, as in API Gateway; the stage's `lastUpdatedDate` moves);
  and UpdateRoute checks what API Gateway checks: an authorization type among NONE, AWS_IAM,
  CUSTOM, JWT; CUSTOM needs one of the API's REQUEST authorizers and JWT a JWT one; NONE and
  AWS_IAM leave the route without an authorizer. An HTTP API's id has 10 lowercase letters and
  digits, as API Gateway makes them (moto makes 8 letters).
"""

import json
import sys
from uuid import uuid4

from moto import server
from moto.apigateway.responses import APIGatewayResponse
from moto.core.utils import unix_time
from moto.identitystore.models import Group, User, identitystore_backends
from moto.ssoadmin.models import ssoadmin_backends
from moto.ssoadmin.responses import SSOAdminResponse

ACCOUNT = "123456789012"
# (status kind, request id) already asked about once: the second status check succeeds. (moto
# gives an assignment's deletion the request id of its creation, hence the kind.)
_asked: set[tuple[str, str]] = set()
# Provisioning requests: id -> permission set ARN.
_provisioning: dict[str, str] = {}


def _in_progress_first(original, key):
    def handler(self):
        answer = json.loads(original(self))
        status = answer[key]
        asked = (key, status.get("RequestId"))
        if asked not in _asked:
            _asked.add(asked)
            status["Status"] = "IN_PROGRESS"
        return json.dumps(answer)

    return handler


def _started(original, key):
    def handler(self):
        answer = json.loads(original(self))
        answer[key]["Status"] = "IN_PROGRESS"
        return json.dumps(answer)

    return handler


SSOAdminResponse.create_account_assignment = _started(
    SSOAdminResponse.create_account_assignment, "AccountAssignmentCreationStatus"
)
SSOAdminResponse.delete_account_assignment = _started(
    SSOAdminResponse.delete_account_assignment, "AccountAssignmentDeletionStatus"
)
SSOAdminResponse.describe_account_assignment_creation_status = _in_progress_first(
    SSOAdminResponse.describe_account_assignment_creation_status,
    "AccountAssignmentCreationStatus",
)
SSOAdminResponse.describe_account_assignment_deletion_status = _in_progress_first(
    SSOAdminResponse.describe_account_assignment_deletion_status,
    "AccountAssignmentDeletionStatus",
)

_provision = SSOAdminResponse.provision_permission_set


def provision_permission_set(self):
    answer = json.loads(_provision(self))
    status = answer["PermissionSetProvisioningStatus"]
    status["Status"] = "IN_PROGRESS"
    _provisioning[status["RequestId"]] = status["PermissionSetArn"]
    return json.dumps(answer)


def describe_permission_set_provisioning_status(self):
    request_id = self._get_param("ProvisionPermissionSetRequestId")
    arn = _provisioning.get(request_id)
    if arn is None:
        raise_not_found()
    return json.dumps(
        {
            "PermissionSetProvisioningStatus": {
                "AccountId": self.current_account,
                "CreatedDate": unix_time(),
                "PermissionSetArn": arn,
                "RequestId": request_id,
                "Status": "SUCCEEDED",
            }
        }
    )


def list_tags_for_resource(self):
    instance_arn = self._get_param("InstanceArn")
    resource_arn = self._get_param("ResourceArn")
    ps = self.ssoadmin_backend._find_permission_set(instance_arn, resource_arn)
    return json.dumps({"Tags": ps.tags or []})


def raise_not_found():
    from moto.ssoadmin.exceptions import ResourceNotFoundException

    raise ResourceNotFoundException


AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS")
_METHOD_SCALARS = {
    "/authorizationType": "authorization_type",
    "/authorizerId": "authorizer_id",
    "/apiKeyRequired": "api_key_required",
    "/operationName": "operation_name",
    "/requestValidatorId": "request_validator_id",
}


def _unescape(segment):
    return segment.replace("~1", "/").replace("~0", "~")


def update_method(self):
    from moto.apigateway.exceptions import BadRequestException

    parts = self.path.split("/")
    api_id, resource_id, http_method = parts[2], parts[4], parts[6]
    api = self.backend.get_rest_api(api_id)
    method = self.backend.get_method(api_id, resource_id, http_method)
    staged = {attr: getattr(method, attr) for attr in _METHOD_SCALARS.values()}
    scopes = list(method.authorization_scopes or [])
    parameters = dict(method.request_parameters or {})
    models = dict(method.request_models or {})
    for operation in self._get_param("patchOperations") or []:
        op, path, value = operation.get("op"), operation.get("path", ""), operation.get("value")
        if op == "replace" and path in _METHOD_SCALARS:
            if path == "/apiKeyRequired":
                if value not in ("true", "false"):
                    raise BadRequestException(f"Invalid boolean value '{value}' for {path}")
                value = value == "true"
            staged[_METHOD_SCALARS[path]] = value
        elif op in ("add", "remove") and path == "/authorizationScopes":
            if op == "add" and value not in scopes:
                scopes.append(value)
            elif op == "remove" and value in scopes:
                scopes.remove(value)
        elif op in ("add", "remove", "replace") and path.startswith("/requestParameters/"):
            name = _unescape(path[len("/requestParameters/"):])
            if op == "remove":
                parameters.pop(name, None)
            else:
                parameters[name] = value == "true"
        elif op in ("add", "remove") and path.startswith("/requestModels/"):
            content_type = _unescape(path[len("/requestModels/"):])
            if op == "remove":
                models.pop(content_type, None)
            else:
                models[content_type] = value
        else:
            raise BadRequestException(
                f"Invalid patch path '{path}' specified for op '{op}'. Must be one of: "
                "[/authorizationType, /authorizerId, /apiKeyRequired, /operationName, "
                "/requestValidatorId, /authorizationScopes, /requestParameters/*, /requestModels/*]"
            )
    kind = staged["authorization_type"]
    if kind not in AUTHORIZATION_TYPES:
        raise BadRequestException(
            f"Invalid authorization type specified. Valid values are {', '.join(AUTHORIZATION_TYPES)}"
        )
    if kind in ("CUSTOM", "COGNITO_USER_POOLS"):
        authorizer = api.authorizers.get(staged["authorizer_id"] or "")
        wanted = ("TOKEN", "REQUEST") if kind == "CUSTOM" else ("COGNITO_USER_POOLS",)
        if authorizer is None or authorizer.type not in wanted:
            raise BadRequestException(
                "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
                "COGNITO_USER_POOLS requires a valid authorizer."
            )
    else:
        staged["authorizer_id"] = None
    for attr, value in staged.items():
        setattr(method, attr, value)
    method.authorization_scopes = scopes or None
    method.request_parameters = parameters or None
    method.request_models = models or None
    return json.dumps(method.to_json())


APIGatewayResponse.update_method = update_method

# --- HTTP APIs (API Gateway v2) ---------------------------------------------------------------
from datetime import datetime, timezone  # noqa: E402

from moto.apigatewayv2 import urls as v2_urls  # noqa: E402
from moto.apigatewayv2.models import Stage as V2Stage  # noqa: E402
from moto.apigatewayv2.responses import ApiGatewayV2Response  # noqa: E402

# api id -> deployments, oldest first
_v2_deployments: dict[str, list[dict]] = {}


def _v2_bad_request(message):
    from moto.apigatewayv2.exceptions import BadRequestException

    raise BadRequestException(message)


def v2_get_authorizers(self):
    api = self.apigatewayv2_backend.get_api(self.path.split("/")[-2])
    return 200, {}, json.dumps({"items": [a.to_json() for a in api.authorizers.values()]})


def v2_get_deployments(self):
    api_id = self.path.split("/")[-2]
    self.apigatewayv2_backend.get_api(api_id)
    return 200, {}, json.dumps({"items": _v2_deployments.get(api_id, [])})


def v2_create_deployment(self):
    api_id = self.path.split("/")[-2]
    api = self.apigatewayv2_backend.get_api(api_id)
    params = json.loads(self.body or "{}")
    now = datetime.now(timezone.utc)
    deployment = {
        "deploymentId": uuid4().hex[:6],
        "createdDate": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "deploymentStatus": "DEPLOYED",
        "description": params.get("description", ""),
    }
    stage_name = params.get("stageName")
    if stage_name:
        stage = api.stages.get(stage_name)
        if stage is None:
            from moto.apigatewayv2.exceptions import StageNotFound

            raise StageNotFound()
        stage.deployment_id = deployment["deploymentId"]
        stage.updated = now.replace(tzinfo=None)
    _v2_deployments.setdefault(api_id, []).append(deployment)
    return 201, {}, json.dumps(deployment)


from moto.apigatewayv2.models import Api as V2Api  # noqa: E402

_v2_api_init = V2Api.__init__


def v2_api_init(self, *args, **kwargs):
    _v2_api_init(self, *args, **kwargs)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    self.api_id = "".join(alphabet[b % len(alphabet)] for b in uuid4().bytes[:10])


V2Api.__init__ = v2_api_init

_v2_stage_json = V2Stage.to_json


def v2_stage_json(self):
    answer = _v2_stage_json(self)
    if getattr(self, "deployment_id", None):
        answer["deploymentId"] = self.deployment_id
    return answer


_v2_update_route = ApiGatewayV2Response.update_route
V2_AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "CUSTOM", "JWT")


def v2_update_route(self):
    parts = self.path.split("/")
    api = self.apigatewayv2_backend.get_api(parts[-3])
    route = self.apigatewayv2_backend.get_route(parts[-3], parts[-1])
    params = json.loads(self.body or "{}")
    kind = params.get("authorizationType") or route.authorization_type or "NONE"
    authorizer_id = params.get("authorizerId", route.authorizer_id)
    if kind not in V2_AUTHORIZATION_TYPES:
        _v2_bad_request(
            f"Invalid authorization type specified. Valid values are {', '.join(V2_AUTHORIZATION_TYPES)}"
        )
    if kind in ("CUSTOM", "JWT"):
        authorizer = api.authorizers.get(authorizer_id or "")
        wanted = "REQUEST" if kind == "CUSTOM" else "JWT"
        if authorizer is None or authorizer.authorizer_type != wanted:
            _v2_bad_request(f"Invalid authorizer ID specified for authorization type {kind}")
    answer = _v2_update_route(self)
    if kind in ("NONE", "AWS_IAM"):
        route.authorizer_id = None
        answer = (200, {}, json.dumps(route.to_json()))
    return answer


ApiGatewayV2Response.get_authorizers = v2_get_authorizers
ApiGatewayV2Response.get_deployments = v2_get_deployments
ApiGatewayV2Response.create_deployment = v2_create_deployment
ApiGatewayV2Response.update_route = v2_update_route
V2Stage.to_json = v2_stage_json
v2_urls.url_paths["{0}/v2/apis/(?P<api_id>[^/]+)/deployments$"] = ApiGatewayV2Response.dispatch
SSOAdminResponse.provision_permission_set = provision_permission_set
SSOAdminResponse.describe_permission_set_provisioning_status = (
    describe_permission_set_provisioning_status
)
SSOAdminResponse.list_tags_for_resource = list_tags_for_resource


def scim_error(status, detail, scim_type=None):
    error = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
             "status": status.split()[0], "detail": detail}
    if scim_type:
        error["scimType"] = scim_type
    return status, error


def scim_group(store, store_id, body):
    """A SCIM 2.0 core Group (`displayName`, `externalId`) into the identity store."""
    name, external = body.get("displayName"), body.get("externalId")
    if not name:
        return scim_error("400 Bad Request", "displayName is required")
    if any(g.DisplayName == name for g in store.groups.values()):
        return scim_error("409 Conflict", f"a group named {name} exists", "uniqueness")
    group_id = str(uuid4())
    external_ids = [{"Issuer": "https://scim.aws.com", "Id": external}] if external else []
    store.groups[group_id] = Group(group_id, name, external_ids, "", store_id)
    return "201 Created", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": group_id, "displayName": name, "externalId": external,
        "meta": {"resourceType": "Group"}}


def scim_user(store, store_id, body):
    """A SCIM 2.0 core User (`userName`, `displayName`) into the identity store."""
    user_name = body.get("userName")
    name = body.get("displayName") or user_name
    if not user_name:
        return scim_error("400 Bad Request", "userName is required")
    if any(u.UserName == user_name for u in store.users.values()):
        return scim_error("409 Conflict", f"a user named {user_name} exists", "uniqueness")
    user_id = str(uuid4())
    store.users[user_id] = User(user_id, store_id, user_name, None, name,
                                "", "", [], [], [], "", "", "", "", "")
    return "201 Created", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": user_id, "userName": user_name, "displayName": name,
        "meta": {"resourceType": "User"}}


SCIM = {"/scim/v2/Groups": scim_group, "/scim/v2/Users": scim_user}


def scim(environ, start_response, make):
    """SCIM 2.0 `POST /scim/v2/{Groups,Users}`, as Entra ID's provisioning calls it, into the
    identity store of the region's (query `region=`) Identity Center instance."""
    from urllib.parse import parse_qs

    region = parse_qs(environ.get("QUERY_STRING", "")).get("region", ["us-east-1"])[0]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    store_id = ssoadmin_backends[ACCOUNT][region].instances[0].identity_store_id
    backend = identitystore_backends[ACCOUNT][region]
    store = backend._IdentityStoreBackend__get_identity_store(store_id)
    status, payload = make(store, store_id, body)
    data = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/scim+json"),
                            ("Content-Length", str(len(data)))])
    return [data]


class WithScim(server.DomainDispatcherApplication):
    def __call__(self, environ, start_response):
        make = SCIM.get(environ.get("PATH_INFO"))
        if make and environ.get("REQUEST_METHOD") == "POST":
            return scim(environ, start_response, make)
        return super().__call__(environ, start_response)


server.DomainDispatcherApplication = WithScim

if __name__ == "__main__":
    server.main(sys.argv[1:])
