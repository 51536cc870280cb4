"""Patches that let moto 5.2.1 hold the on-premises connectivity of issue 16 as AWS does.

The stack can reach on-premises through a transit gateway VPC attachment or a site-to-site VPN
(virtual private gateway, customer gateway, connection, static routes or route propagation), answer
on-premises DNS through a Route 53 Resolver inbound endpoint, and deploy into a customer's existing
VPC by ID. moto serves all of these, but differently from AWS where the Terraform AWS provider
(5.100.0) notices: an apply fails or hangs, or the plan right after it is not empty.

Same rules as `tools.moto_patches`, with the same helpers (`tools.moto_patch_base`, which both modules
import): each patch checks the moto internals it replaces (`_original`) or the actions it adds
(`_absent`), installs through `_install`, so `moto_patches.revert_all()` (or leaving
`moto_patches.applied()`) undoes these too, and says in its docstring what AWS does and what moto does.
`NETWORK_PATCHES` lists them; `tools.moto_patches` imports this module and applies them as part of
`PATCHES` (this module does not import it back).
"""

from __future__ import annotations

import functools
import inspect
import ipaddress
import json
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any, Final, cast

import moto.ec2.models.route_tables as route_tables_module
import moto.ec2.models.security_groups as security_groups_module
import moto.ec2.models.subnets as subnets_module
import moto.ec2.models.transit_gateway as transit_gateway_module
import moto.ec2.models.vpcs as vpcs_module
from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.exceptions import EC2ClientError, InvalidParameterValue
from moto.ec2.models.route_tables import RouteBackend, RouteTable
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.ec2.models.subnets import SubnetBackend
from moto.ec2.models.transit_gateway import TransitGatewayBackend
from moto.ec2.models.transit_gateway_attachments import TransitGatewayAttachment, TransitGatewayAttachmentBackend
from moto.ec2.models.vpcs import VPCBackend
from moto.ec2.models.vpn_connections import VPNConnection
from moto.ec2.responses.route_tables import RouteTables
from moto.ec2.responses.transit_gateway_attachments import TransitGatewayAttachment as TransitGatewayAttachmentResponse
from moto.ec2.responses.vpn_connections import VPNConnections
from moto.ec2.utils import add_tag_specification
from moto.route53resolver.models import ResolverEndpoint, Route53ResolverBackend
from moto.route53resolver.responses import Route53ResolverResponse
from moto.utilities.id_generator import TAG_KEY_CUSTOM_ID
from moto.utilities.utils import filter_resources

from tools.moto_patch_base import MotoPatchError
from tools.moto_patch_base import absent as _absent
from tools.moto_patch_base import install as _install
from tools.moto_patch_base import original as _original

# VPN connection options AWS answers back as they were sent (the rest of `Options` is tunnel detail).
VPN_STRING_OPTIONS: Final = ("LocalIpv4NetworkCidr", "RemoteIpv4NetworkCidr", "TunnelInsideIpVersion", "OutsideIpAddressType")
# moto's DescribeTransitGatewayVpcAttachments filters (filter name, attribute).
TGW_VPC_ATTACHMENT_FILTERS: Final = (
    ("state", "state"),
    ("transit-gateway-attachment-id", "id"),
    ("transit-gateway-id", "transit_gateway_id"),
    ("vpc-id", "resource_id"),
)
# AWS's defaults for what a Resolver endpoint is created with when the request does not say.
RESOLVER_DEFAULT_PROTOCOLS: Final = ("Do53",)
RESOLVER_DEFAULT_ENDPOINT_TYPE: Final = "IPV4"


def _module_original(module: ModuleType, name: str) -> Callable[[], str]:
    # The module-level ID generators moto imported by name, checked in the module's dict as `_original` does a class's.
    if name not in vars(module):
        raise MotoPatchError(f"{module.__name__}.{name} is gone: moto's internals changed")
    found: Callable[[], str] = vars(module)[name]
    return found


def _module_install(module: ModuleType, name: str, value: Any) -> None:
    _install(cast(type, module), name, value)


def _truthy(value: Any) -> bool:
    # EC2's query protocol sends booleans as "true"/"false"; moto passes them through as strings.
    return value is True or str(value).lower() == "true"


# --- 1 and 2: transit gateway VPC attachments ----------------------------------------------------


def patch_tgw_vpc_attachment_tags() -> None:
    """A transit gateway VPC attachment keeps the tags it was created with.

    AWS: CreateTransitGatewayVpcAttachment takes tags in a `TagSpecification` of resource type
    `transit-gateway-attachment` and answers them (and DescribeTransitGatewayVpcAttachments does).
    moto 5.2.1: reads the tags under `transit-gateway-route-table`, so they are dropped and
    `aws_ec2_transit_gateway_vpc_attachment` plans to re-add `tags`/`default_tags` after every apply.
    """
    _original(TransitGatewayAttachmentResponse, "create_transit_gateway_vpc_attachment")

    def create_transit_gateway_vpc_attachment(self: TransitGatewayAttachmentResponse) -> ActionResult:
        attachment = self.ec2_backend.create_transit_gateway_vpc_attachment(
            transit_gateway_id=self._get_param("TransitGatewayId"),
            tags=self._parse_tag_specification().get("transit-gateway-attachment", {}),
            vpc_id=self._get_param("VpcId"),
            subnet_ids=self._get_param("SubnetIds", []),
            options=self._get_param("Options", {}),
        )
        return ActionResult({"TransitGatewayVpcAttachment": attachment})

    _install(TransitGatewayAttachmentResponse, "create_transit_gateway_vpc_attachment", create_transit_gateway_vpc_attachment)


def _deleted_attachments(backend: TransitGatewayAttachmentBackend) -> dict[str, TransitGatewayAttachment]:
    # Kept on the backend, so moto's reset (which replaces backends) clears them too.
    store: dict[str, TransitGatewayAttachment] = backend.__dict__.setdefault("tap_deleted_tgw_attachments", {})
    return store


def patch_tgw_vpc_attachment_deleted_state() -> None:
    """A deleted transit gateway VPC attachment is still described, by ID, as `deleted`.

    AWS: DeleteTransitGatewayVpcAttachment answers `deleting`; the attachment stays visible for a
    while, and describing it by ID answers `State=deleted`, which is what the provider's delete
    waiter polls for.
    moto 5.2.1: removes the record at once, so describing it by ID answers nothing and the waiter
    never sees `deleted`: `terraform destroy` waits out the provider's delete timeout. Here deleted
    attachments are remembered and answered when asked for by ID (never in a list without IDs, so
    they do not count as attached to their VPC).
    """
    delete = _original(TransitGatewayAttachmentBackend, "delete_transit_gateway_vpc_attachment")
    describe = _original(TransitGatewayAttachmentBackend, "describe_transit_gateway_vpc_attachments")

    @functools.wraps(delete)
    def delete_transit_gateway_vpc_attachment(
        self: TransitGatewayAttachmentBackend, transit_gateway_attachment_id: str
    ) -> TransitGatewayAttachment:
        attachment: TransitGatewayAttachment = delete(self, transit_gateway_attachment_id)
        _deleted_attachments(self)[attachment.id] = attachment
        return attachment

    @functools.wraps(describe)
    def describe_transit_gateway_vpc_attachments(
        self: TransitGatewayAttachmentBackend,
        transit_gateways_attachment_ids: list[str] | None = None,
        filters: Any = None,
    ) -> list[TransitGatewayAttachment]:
        found: list[TransitGatewayAttachment] = describe(self, transit_gateways_attachment_ids, filters)
        if not transit_gateways_attachment_ids:
            return found
        known = {attachment.id for attachment in found}
        deleted = _deleted_attachments(self)
        wanted = [deleted[i] for i in transit_gateways_attachment_ids if i in deleted and i not in known]
        if wanted and filters:
            # The filters moto applies to live attachments (`state`, `vpc-id`, ...), with its own pairs.
            wanted = filter_resources(wanted, filters, TGW_VPC_ATTACHMENT_FILTERS)
        return found + wanted

    _install(TransitGatewayAttachmentBackend, "delete_transit_gateway_vpc_attachment", delete_transit_gateway_vpc_attachment)
    _install(
        TransitGatewayAttachmentBackend, "describe_transit_gateway_vpc_attachments", describe_transit_gateway_vpc_attachments
    )


# --- 3 and 4: site-to-site VPN connections -------------------------------------------------------


def _vpn_routes(connection: VPNConnection) -> dict[str, dict[str, str]]:
    store: dict[str, dict[str, str]] = connection.__dict__.setdefault("tap_routes", {})
    return store


def patch_vpn_connection_options() -> None:
    """A VPN connection keeps its `Options`, `StaticRoutesOnly` first.

    AWS: CreateVpnConnection takes `Options` (`StaticRoutesOnly`, `EnableAcceleration`, the local and
    remote IPv4 network CIDRs, ...) and DescribeVpnConnections answers them.
    moto 5.2.1: ignores `Options` and answers none, so `aws_vpn_connection` with
    `static_routes_only = true` reads back `false` and is planned for replacement after every apply.
    """
    _original(VPNConnections, "create_vpn_connection")
    _original(VPNConnection, "__init__")

    def create_vpn_connection(self: VPNConnections) -> ActionResult:
        sent: dict[str, Any] = self._get_param("Options", {}) or {}
        transit_gateway_id = self._get_param("TransitGatewayId")
        connection = self.ec2_backend.create_vpn_connection(
            self._get_param("Type"),
            self._get_param("CustomerGatewayId"),
            vpn_gateway_id=self._get_param("VpnGatewayId"),
            transit_gateway_id=transit_gateway_id,
            tags=add_tag_specification(self._get_param("TagSpecifications", [])),
        )
        options: dict[str, Any] = {
            "StaticRoutesOnly": _truthy(sent.get("StaticRoutesOnly", False)),
            "EnableAcceleration": _truthy(sent.get("EnableAcceleration", False)),
        }
        options.update({key: sent[key] for key in VPN_STRING_OPTIONS if sent.get(key)})
        connection.options = options
        if connection.transit_gateway_id:
            # What moto's own handler does after creating a connection to a transit gateway.
            self.ec2_backend.create_transit_gateway_vpn_attachment(vpn_id=connection.id, transit_gateway_id=transit_gateway_id)
        return ActionResult({"VpnConnection": connection})

    _install(VPNConnections, "create_vpn_connection", create_vpn_connection)


class InvalidVpnRouteError(EC2ClientError):
    def __init__(self, connection_id: str, cidr: str) -> None:
        super().__init__("InvalidRoute.NotFound", f"The route {cidr} does not exist on VPN connection {connection_id}")


def patch_vpn_connection_routes() -> None:
    """Static routes of a VPN connection (CreateVpnConnectionRoute, DeleteVpnConnectionRoute), which moto 5.2.1 lacks.

    AWS: the two actions add and remove a static route (`DestinationCidrBlock`) on a connection;
    DescribeVpnConnections answers them under `Routes` (`Source=Static`, `State=available`) and
    filters by `vpn-connection-id`, `route.destination-cidr-block`, `customer-gateway-id` and
    `vpn-gateway-id`; an unknown connection is `InvalidVpnConnectionID.NotFound`.
    moto 5.2.1: the actions do not exist (HTTP 500, which the provider retries until its create
    timeout), connections have no routes, and those filters raise "not implemented", which is how
    `aws_vpn_connection_route` reads itself back.
    """
    for action in ("create_vpn_connection_route", "delete_vpn_connection_route"):
        _absent(VPNConnections, action)
    _absent(VPNConnection, "routes")
    filter_value = _original(VPNConnection, "get_filter_value")

    def routes(self: VPNConnection) -> list[dict[str, str]]:
        return [dict(route) for route in _vpn_routes(self).values()]

    @functools.wraps(filter_value)
    def get_filter_value(self: VPNConnection, filter_name: str, method_name: str | None = None) -> Any:
        own: dict[str, Callable[[], Any]] = {
            "vpn-connection-id": lambda: self.id,
            "route.destination-cidr-block": lambda: list(_vpn_routes(self)),
            "customer-gateway-id": lambda: self.customer_gateway_id,
            "vpn-gateway-id": lambda: self.vpn_gateway_id,
            "transit-gateway-id": lambda: self.transit_gateway_id,
            "state": lambda: self.state,
            "type": lambda: self.type,
        }
        if filter_name in own:
            return own[filter_name]()
        return filter_value(self, filter_name, method_name)

    def connection_and_cidr(response: VPNConnections) -> tuple[VPNConnection, str]:
        connection_id = response._get_param("VpnConnectionId")
        cidr = response._get_param("DestinationCidrBlock")
        try:
            ipaddress.IPv4Network(cidr)
        except (ValueError, TypeError):
            raise InvalidParameterValue(f"Value ({cidr}) for parameter destinationCidrBlock is invalid") from None
        found: list[VPNConnection] = response.ec2_backend.describe_vpn_connections(vpn_connection_ids=[connection_id])
        return found[0], cidr

    def create_vpn_connection_route(self: VPNConnections) -> EmptyResult:
        connection, cidr = connection_and_cidr(self)
        _vpn_routes(connection)[cidr] = {"DestinationCidrBlock": cidr, "Source": "Static", "State": "available"}
        return EmptyResult()

    def delete_vpn_connection_route(self: VPNConnections) -> EmptyResult:
        connection, cidr = connection_and_cidr(self)
        if _vpn_routes(connection).pop(cidr, None) is None:
            raise InvalidVpnRouteError(connection.id, cidr)
        return EmptyResult()

    _install(VPNConnection, "routes", property(routes))
    _install(VPNConnection, "get_filter_value", get_filter_value)
    _install(VPNConnections, "create_vpn_connection_route", create_vpn_connection_route)
    _install(VPNConnections, "delete_vpn_connection_route", delete_vpn_connection_route)


# --- 5: route propagation from a virtual private gateway -----------------------------------------


def patch_vgw_route_propagation() -> None:
    """Route propagation from a virtual private gateway (Enable/DisableVgwRoutePropagation), which moto 5.2.1 lacks.

    AWS: EnableVgwRoutePropagation makes a route table learn the gateway's routes and lists the
    gateway under the table's `PropagatingVgws`; DisableVgwRoutePropagation undoes it; an unknown
    table is `InvalidRouteTableID.NotFound`, an unknown gateway `InvalidVpnGatewayID.NotFound`.
    moto 5.2.1: neither action exists (HTTP 500, so `aws_vpn_gateway_route_propagation` retries until
    its timeout) and route tables have no `PropagatingVgws`. No routes are actually learned here
    (moto's gateways have none to give).
    """
    for action in ("enable_vgw_route_propagation", "disable_vgw_route_propagation"):
        _absent(RouteTables, action)
    _absent(RouteTable, "propagating_vgws")
    _original(RouteBackend, "get_route_table")

    def gateways(table: RouteTable) -> list[str]:
        store: list[str] = table.__dict__.setdefault("tap_propagating_vgws", [])
        return store

    def propagating_vgws(self: RouteTable) -> list[dict[str, str]]:
        return [{"GatewayId": gateway_id} for gateway_id in gateways(self)]

    def table_and_gateway(response: RouteTables) -> tuple[RouteTable, str]:
        table: RouteTable = response.ec2_backend.get_route_table(response._get_param("RouteTableId"))
        gateway_id: str = response._get_param("GatewayId")
        response.ec2_backend.get_vpn_gateway(gateway_id)
        return table, gateway_id

    def enable_vgw_route_propagation(self: RouteTables) -> EmptyResult:
        table, gateway_id = table_and_gateway(self)
        if gateway_id not in gateways(table):
            gateways(table).append(gateway_id)
        return EmptyResult()

    def disable_vgw_route_propagation(self: RouteTables) -> EmptyResult:
        table, gateway_id = table_and_gateway(self)
        if gateway_id in gateways(table):
            gateways(table).remove(gateway_id)
        return EmptyResult()

    _install(RouteTable, "propagating_vgws", property(propagating_vgws))
    _install(RouteTables, "enable_vgw_route_propagation", enable_vgw_route_propagation)
    _install(RouteTables, "disable_vgw_route_propagation", disable_vgw_route_propagation)


# --- 6: Route 53 Resolver endpoints --------------------------------------------------------------


def patch_resolver_endpoint_fields() -> None:
    """A Resolver endpoint keeps its name on update, and its protocols and endpoint type.

    AWS: UpdateResolverEndpoint changes only what it is sent (`Name`, `ResolverEndpointType`,
    `Protocols`); CreateResolverEndpoint stores `Protocols` (default `Do53`) and
    `ResolverEndpointType` (default `IPV4`) and every answer carries them.
    moto 5.2.1: UpdateResolverEndpoint sets the name to whatever was sent, so an update without
    `Name` (the provider sends only what changed) wipes it and the next plan renames it back; the two
    fields are neither stored nor answered, so setting them in Terraform drifts.
    """
    create = _original(Route53ResolverResponse, "create_resolver_endpoint")
    _original(Route53ResolverResponse, "update_resolver_endpoint")
    update_backend = _original(Route53ResolverBackend, "update_resolver_endpoint")
    description = _original(ResolverEndpoint, "description")

    def set_fields(endpoint: ResolverEndpoint, protocols: list[str] | None, endpoint_type: str | None) -> None:
        if protocols:
            endpoint.tap_protocols = list(protocols)  # type: ignore[attr-defined]
        if endpoint_type:
            endpoint.tap_endpoint_type = endpoint_type  # type: ignore[attr-defined]

    @functools.wraps(description)
    def endpoint_description(self: ResolverEndpoint) -> dict[str, Any]:
        result: dict[str, Any] = description(self)
        result["Protocols"] = list(getattr(self, "tap_protocols", RESOLVER_DEFAULT_PROTOCOLS))
        result["ResolverEndpointType"] = getattr(self, "tap_endpoint_type", RESOLVER_DEFAULT_ENDPOINT_TYPE)
        return result

    @functools.wraps(create)
    def create_resolver_endpoint(self: Route53ResolverResponse) -> str:
        answer: str = create(self)
        # moto's handler has created it: find it by the request ID the provider made unique.
        request_id = self._get_param("CreatorRequestId")
        for endpoint in self.route53resolver_backend.resolver_endpoints.values():
            if endpoint.creator_request_id == request_id:
                set_fields(endpoint, self._get_param("Protocols"), self._get_param("ResolverEndpointType"))
                return json_answer(endpoint)
        return answer

    def json_answer(endpoint: ResolverEndpoint) -> str:
        return json.dumps({"ResolverEndpoint": endpoint.description()})

    def update_resolver_endpoint(self: Route53ResolverResponse) -> str:
        backend = self.route53resolver_backend
        endpoint_id = self._get_param("ResolverEndpointId")
        name = self._get_param("Name")
        if name is None:
            backend._validate_resolver_endpoint_id(endpoint_id)
            name = backend.resolver_endpoints[endpoint_id].name
        endpoint: ResolverEndpoint = update_backend(backend, endpoint_id, name)
        set_fields(endpoint, self._get_param("Protocols"), self._get_param("ResolverEndpointType"))
        return json_answer(endpoint)

    _install(ResolverEndpoint, "description", endpoint_description)
    _install(Route53ResolverResponse, "create_resolver_endpoint", create_resolver_endpoint)
    _install(Route53ResolverResponse, "update_resolver_endpoint", update_resolver_endpoint)


# --- 7: fixed IDs through moto's `_custom_id_` tag -----------------------------------------------

_pending_ids = threading.local()


class DuplicateIdError(InvalidParameterValue):
    """A `_custom_id_` asks for an ID that is taken (AWS never reuses an ID: it cannot happen there)."""


# kind -> (module whose generator to steer, generator name, ID prefix)
CUSTOM_ID_GENERATORS: Final = {
    "vpc": (vpcs_module, "random_vpc_id", "vpc-"),
    "subnet": (subnets_module, "random_subnet_id", "subnet-"),
    "security-group": (security_groups_module, "random_security_group_id", "sg-"),
    "route-table": (route_tables_module, "random_route_table_id", "rtb-"),
    "transit-gateway": (transit_gateway_module, "random_transit_gateway_id", "tgw-"),
}


def _tags_list(tags: Any) -> tuple[Any, str | None]:
    # [{"Key": ..., "Value": ...}]: create_vpc, create_route_table, create_transit_gateway
    if not tags:
        return tags, None
    found = next((tag.get("Value") for tag in tags if tag.get("Key") == TAG_KEY_CUSTOM_ID), None)
    return [tag for tag in tags if tag.get("Key") != TAG_KEY_CUSTOM_ID], found


def _tags_dict(tags: Any) -> tuple[Any, str | None]:
    # {key: value}: create_security_group
    if not tags or TAG_KEY_CUSTOM_ID not in tags:
        return tags, None
    rest = dict(tags)
    return rest, rest.pop(TAG_KEY_CUSTOM_ID)


def _tags_nested(tags: Any) -> tuple[Any, str | None]:
    # {"subnet": {key: value}}: create_subnet
    if not tags or "subnet" not in tags:
        return tags, None
    inner, found = _tags_dict(tags["subnet"])
    return {**tags, "subnet": inner}, found


def patch_ec2_custom_ids() -> None:
    """EC2 VPCs, subnets, security groups, route tables and transit gateways take a fixed ID from a `_custom_id_` tag.

    AWS: IDs are chosen by AWS; a customer's existing network has IDs the stack is told
    (`network.mode = "existing"`), and the emulator must hold resources under exactly those IDs.
    moto 5.2.1: has a `_custom_id_` tag convention (moto.utilities.id_generator) for a few services
    but not EC2, whose IDs always come from module-level `random_*_id()` functions. Here a
    `_custom_id_` tag in the create request's tag specification picks the ID (the tag itself is not
    stored); an ID without the resource's prefix, or one that exists already, is `InvalidParameterValue`.
    """
    generators = {kind: _module_original(module, name) for kind, (module, name, _) in CUSTOM_ID_GENERATORS.items()}

    def steered(kind: str) -> Callable[[], str]:
        original = generators[kind]

        def generate() -> str:
            pending: dict[str, str] = getattr(_pending_ids, "ids", {})
            return pending.pop(kind, None) or original()

        return generate

    def wrap(
        owner: type, method: str, kind: str, strip: Callable[[Any], tuple[Any, str | None]], exists: Callable[[Any, str], bool]
    ) -> None:
        original = _original(owner, method)
        signature = inspect.signature(original)
        if "tags" not in signature.parameters:
            raise MotoPatchError(f"{owner.__qualname__}.{method} takes no tags any more: re-check this patch")
        prefix = CUSTOM_ID_GENERATORS[kind][2]

        @functools.wraps(original)
        def create(self: Any, *args: Any, **kwargs: Any) -> Any:
            # Handlers pass tags by name or by position (CreateRouteTable does): bind to find them either way.
            bound = signature.bind(self, *args, **kwargs)
            tags, custom = strip(bound.arguments.get("tags"))
            if not custom:
                return original(self, *args, **kwargs)
            if not custom.startswith(prefix) or len(custom) <= len(prefix):
                raise InvalidParameterValue(f"{TAG_KEY_CUSTOM_ID} {custom!r} is not a {kind} ID (it starts with {prefix!r})")
            if exists(self, custom):
                raise DuplicateIdError(f"{TAG_KEY_CUSTOM_ID} {custom!r}: a {kind} with this ID exists already")
            bound.arguments["tags"] = tags
            pending: dict[str, str] = _pending_ids.__dict__.setdefault("ids", {})
            pending[kind] = custom
            try:
                return original(*bound.args, **bound.kwargs)
            finally:
                pending.pop(kind, None)

        _install(owner, method, create)

    wrap(VPCBackend, "create_vpc", "vpc", _tags_list, lambda backend, i: i in backend.vpcs)
    wrap(
        SubnetBackend,
        "create_subnet",
        "subnet",
        _tags_nested,
        lambda backend, i: any(i in by_id for by_id in backend.subnets.values()),
    )
    wrap(
        SecurityGroupBackend,
        "create_security_group",
        "security-group",
        _tags_dict,
        lambda backend, i: any(i in by_id for by_id in backend.groups.values()),
    )
    wrap(RouteBackend, "create_route_table", "route-table", _tags_list, lambda backend, i: i in backend.route_tables)
    wrap(
        TransitGatewayBackend,
        "create_transit_gateway",
        "transit-gateway",
        _tags_list,
        lambda backend, i: i in backend.transit_gateways,
    )
    for kind, (module, name, _) in CUSTOM_ID_GENERATORS.items():
        _module_install(module, name, steered(kind))


NETWORK_PATCHES: Final[tuple[Callable[[], None], ...]] = (
    patch_tgw_vpc_attachment_tags,
    patch_tgw_vpc_attachment_deleted_state,
    patch_vpn_connection_options,
    patch_vpn_connection_routes,
    patch_vgw_route_propagation,
    patch_resolver_endpoint_fields,
    patch_ec2_custom_ids,
)


def is_network_applied() -> bool:
    # An action these patches add is there (moto lacks it: `_absent` would have refused otherwise).
    return hasattr(VPNConnections, "create_vpn_connection_route")


__all__ = ["NETWORK_PATCHES", "is_network_applied"]
