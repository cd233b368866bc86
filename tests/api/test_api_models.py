"""The models against the reference page's examples, and local request validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from statdash.api import models, responses
from statdash.api.errors import BadRequestError, RequestValidationError
from statdash.api.values import UnknownValue, parse_value
from tests.api.support import FakeServer, envelope, make_client, respond

# --- The example bodies of the reference page (seed/000_bddde3f61360962d.txt), verbatim ----

GET_STATISTIC_EX_200 = """
{
  "data": {
    "statistics": [
      {
        "name": "string",
        "objectId": "string",
        "objectType": "string",
        "timestamp": 0,
        "value": {
        }
      }
    ]
  },
  "errors": [
    {
      "status": {
        "code": 0,
        "detail": {
        },
        "message": "string"
      }
    }
  ],
  "path": "string",
  "status": {
    "code": 0,
    "detail": {
    },
    "message": "string"
  }
}
"""

STATISTIC_VALUE_200 = """
{
  "data": {
    "statistic": {
      "name": "string",
      "objectId": "string",
      "objectType": "string",
      "timestamp": 0,
      "value": {
      }
    }
  },
  "errors": [
    {
      "status": {
        "code": 0,
        "detail": {
        },
        "message": "string"
      }
    }
  ],
  "path": "string",
  "status": {
    "code": 0,
    "detail": {
    },
    "message": "string"
  }
}
"""

# Opening a subscription and peeking it answer the same StatisticDataResponse example.
STATISTIC_DATA_200 = """
{
  "data": {
    "operationId": "string",
    "statistics": [
      {
        "name": "string",
        "objectId": "string",
        "objectType": "string",
        "statisticId": "string",
        "timestamp": 0,
        "value": {
        }
      }
    ],
    "subscriptionId": "string"
  },
  "errors": [
    {
      "status": {
        "code": 0,
        "detail": {
        },
        "message": "string"
      }
    }
  ],
  "path": "string",
  "status": {
    "code": 0,
    "detail": {
    },
    "message": "string"
  }
}
"""

# DELETE's 200 and every error status (400, 403, 404, 500, 503, 504) share this ApiResponse.
API_RESPONSE = """
{
  "data": {
  },
  "errors": [
    {
      "status": {
        "code": 0,
        "detail": {
        },
        "message": "string"
      }
    }
  ],
  "path": "string",
  "status": {
    "code": 0,
    "detail": {
    },
    "message": "string"
  }
}
"""


def test_get_statistic_ex_example_validates_as_peeked_statistics() -> None:
    """The get-statistic-ex 200 example is an Envelope of PeekedStatistics with one value."""
    parsed = models.Envelope[models.PeekedStatistics].model_validate_json(GET_STATISTIC_EX_200)
    assert parsed.ok and parsed.data is not None
    (value,) = parsed.data.statistics
    assert (value.name, value.object_id, value.object_type, value.timestamp, value.value) == (
        "string",
        "string",
        "string",
        0,
        {},
    )
    assert parsed.errors[0].status.message == "string" and parsed.path == "string"


def test_statistic_value_example_validates_as_peeked_statistic() -> None:
    """The single-value 200 example is an Envelope of PeekedStatistic (singular `statistic`)."""
    parsed = models.Envelope[models.PeekedStatistic].model_validate_json(STATISTIC_VALUE_200)
    assert parsed.data is not None
    assert parsed.data.statistic.object_id == "string"


def test_statistic_data_example_validates_as_statistic_data() -> None:
    """The open/peek 200 example is an Envelope of StatisticData with ids and one value."""
    parsed = models.Envelope[models.StatisticData].model_validate_json(STATISTIC_DATA_200)
    assert parsed.data is not None
    assert parsed.data.operation_id == parsed.data.subscription_id == "string"
    assert parsed.data.statistics[0].statistic_id == "string"


def test_api_response_example_validates_as_generic_envelope() -> None:
    """The shared error/DELETE example is an Envelope with an object `data`."""
    parsed = models.Envelope[dict[str, Any]].model_validate_json(API_RESPONSE)
    assert parsed.data == {} and parsed.status.code == 0 and parsed.status.detail == {}


def test_examples_go_through_the_client_parsers() -> None:
    """Each 200 example parses into the client's result for its operation."""
    peeked = responses.parse_peeked(GET_STATISTIC_EX_200.encode())
    single = responses.parse_single(STATISTIC_VALUE_200.encode())
    opened = responses.parse_subscription(STATISTIC_DATA_200.encode(), operation_id="sent")
    peek = responses.parse_peek(STATISTIC_DATA_200.encode())
    assert peeked.statistics[0].name == "string" and single.name == "string"
    # The server's ids win over the one sent.
    assert opened.subscription_id == "string" and opened.operation_id == "string"
    assert peek.statistics[0].statistic_id == "string"
    # The examples' errors[] entries (code 0, empty detail) come through as ItemErrors.
    assert peek.errors == (responses.ItemError(code=0, message="string"),)
    responses.parse_ack(API_RESPONSE.encode())  # raises on an answer it does not accept


def test_example_empty_value_object_reads_as_unknown() -> None:
    """The examples' empty `value` object becomes an UnknownValue, not a crash or a number."""
    parsed = responses.parse_peek(STATISTIC_DATA_200.encode())
    assert isinstance(parse_value(parsed.statistics[0].value), UnknownValue)


def test_error_example_under_400_carries_its_code_and_message() -> None:
    """The reference's 400 body becomes BadRequestError with the envelope's code and message."""
    error = responses.error_from_response(400, API_RESPONSE.encode(), where="/x")
    assert isinstance(error, BadRequestError)
    assert (error.http_status, error.code, error.server_message) == (400, 0, "string")


def test_subscription_request_of_the_wire_reference_round_trips() -> None:
    """The wire reference's subscription request validates and serialises back identically."""
    wire = {
        "operationId": "3f0c1d2e-9a4b-4c1d-8e2f-000000000001",
        "data": {
            "statistics": [
                {
                    "statisticId": "a1",
                    "objectId": "jsmith",
                    "objectType": "Agent",
                    "name": "CurrentAgentState",
                },
                {
                    "statisticId": "a2",
                    "objectId": "jsmith",
                    "objectType": "Agent",
                    "definition": {
                        "category": "CurrentTime",
                        "subject": "DNStatus",
                        "mainMask": "*",
                        "notificationMode": "Periodical",
                        "notificationFrequency": 5,
                        "insensitivity": 0,
                    },
                },
            ]
        },
    }
    request = models.SubscriptionRequest.model_validate(wire)
    assert request.to_wire() == wire


# --- Local validation: rejected before anything is sent -----------------------------------

AGENT = {"objectId": "jsmith", "objectType": "Agent"}
DEFINITION = {"category": "CurrentTime", "subject": "DNStatus"}

BAD_ITEMS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "both name and definition": (
        [{"statisticId": "a1", **AGENT, "name": "X", "definition": DEFINITION}],
        "statistics[0]: exactly one of 'name' or 'definition' is required",
    ),
    "neither name nor definition": (
        [{"statisticId": "a1", **AGENT}],
        "statistics[0]: exactly one of 'name' or 'definition' is required",
    ),
    "duplicate statisticId": (
        [{"statisticId": "a1", **AGENT, "name": "X"}, {"statisticId": "a1", **AGENT, "name": "Y"}],
        "duplicate statisticId 'a1' at statistics[1]",
    ),
    "no items": ([], "data.statistics: List should have at least 1 item"),
    "unknown field": (
        [{"statisticId": "a1", **AGENT, "name": "X", "color": "red"}],
        "statistics[0].color: Extra inputs are not permitted",
    ),
    "empty objectId": (
        [{"statisticId": "a1", "objectId": "", "objectType": "Agent", "name": "X"}],
        "statistics[0].objectId",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS), ids=list(BAD_ITEMS))
async def test_bad_subscription_is_rejected_before_sending(case: str) -> None:
    """A subscription that breaks the wire rules raises RequestValidationError; no request goes."""
    items, expected = BAD_ITEMS[case]
    server = FakeServer()
    async with make_client(server) as client:
        with pytest.raises(RequestValidationError) as caught:
            await client.open_subscription(items)
    assert server.requests == []
    assert expected in str(caught.value)


async def test_model_changed_after_construction_is_revalidated() -> None:
    """A SubscriptionItem whose `name` was removed after construction is still rejected locally."""
    item = models.SubscriptionItem(
        statistic_id="a1", object_id="jsmith", object_type="Agent", name="CurrentAgentState"
    )
    item.name = None
    server = FakeServer()
    async with make_client(server) as client:
        with pytest.raises(RequestValidationError, match="exactly one of"):
            await client.open_subscription([item])
    assert server.requests == []


async def test_constructed_model_with_both_fields_is_rejected() -> None:
    """A SubscriptionItem built with model_construct (no validation) is validated before sending."""
    item = models.SubscriptionItem.model_construct(
        statistic_id="a1",
        object_id="jsmith",
        object_type="Agent",
        name="X",
        definition=models.StatisticDefinition(category="CurrentTime", subject="DNStatus"),
    )
    server = FakeServer()
    async with make_client(server) as client:
        with pytest.raises(RequestValidationError, match="exactly one of"):
            await client.open_subscription([item])
    assert server.requests == []


BAD_CALLS = {
    "verbose": lambda c: c.open_subscription(
        [{"statisticId": "a", **AGENT, "name": "X"}], verbose="LOUD"
    ),
    "items as one string": lambda c: c.open_subscription("a1"),
    "empty operationId": lambda c: c.open_subscription(
        [{"statisticId": "a", **AGENT, "name": "X"}], operation_id=""
    ),
    "peek empty id": lambda c: c.peek_subscription(""),
    "peek ids as a string": lambda c: c.peek_subscription("s", statistic_ids="a1,a2"),
    "peek empty id list": lambda c: c.peek_subscription("s", statistic_ids=[]),
    "peek id with comma": lambda c: c.peek_subscription("s", statistic_ids=["a1", "a,2"]),
    "peek verbose": lambda c: c.peek_subscription("s", verbose="ALL"),
    "delete empty id": lambda c: c.delete_subscription(""),
    "ex no refs": lambda c: c.get_statistic_ex([]),
    "ex missing objectType": lambda c: c.get_statistic_ex([{"objectId": "x", "name": "N"}]),
    "ex with statisticId": lambda c: c.get_statistic_ex(
        [{**AGENT, "name": "N", "statisticId": "a"}]
    ),
    "single empty name": lambda c: c.get_statistic_value("", "jsmith", "Agent"),
    "single empty object": lambda c: c.get_statistic_value("N", "", "Agent"),
}


@pytest.mark.parametrize("case", list(BAD_CALLS), ids=list(BAD_CALLS))
async def test_bad_arguments_are_rejected_before_sending(case: str) -> None:
    """Invalid arguments to any operation raise RequestValidationError and send nothing."""
    server = FakeServer()
    async with make_client(server) as client:
        with pytest.raises(RequestValidationError):
            await BAD_CALLS[case](client)
    assert server.requests == []


async def test_validation_message_does_not_echo_the_input() -> None:
    """The error names the field and the rule, not the offending value (which may be huge)."""
    server = FakeServer()
    async with make_client(server) as client:
        with pytest.raises(RequestValidationError) as caught:
            await client.open_subscription(
                [{"statisticId": "a1", **AGENT, "name": "X", "definition": "zzz-unique-zzz"}]
            )
    assert "zzz-unique-zzz" not in str(caught.value)
    assert caught.value.problems


async def test_valid_items_as_models_and_dicts_are_sent_in_wire_form() -> None:
    """Model and dict items both reach the wire as camelCase JSON with one operationId."""
    server = FakeServer([respond(200, envelope({"statistics": []}))])
    item = models.SubscriptionItem(
        statistic_id="a2",
        object_id="jsmith",
        object_type="Agent",
        definition=models.StatisticDefinition(
            category="CurrentTime", subject="DNStatus", notification_mode="Periodical"
        ),
    )
    async with make_client(server) as client:
        await client.open_subscription(
            [{"statisticId": "a1", **AGENT, "name": "CurrentAgentState"}, item],
            operation_id="op-1",
        )
    sent = json.loads(server.api_requests[0].content)
    assert sent == {
        "operationId": "op-1",
        "data": {
            "statistics": [
                {
                    "statisticId": "a1",
                    "objectId": "jsmith",
                    "objectType": "Agent",
                    "name": "CurrentAgentState",
                },
                {
                    "statisticId": "a2",
                    "objectId": "jsmith",
                    "objectType": "Agent",
                    "definition": {
                        "category": "CurrentTime",
                        "subject": "DNStatus",
                        "mainMask": "*",
                        "notificationMode": "Periodical",
                    },
                },
            ]
        },
    }
    assert server.api_requests[0].headers["content-type"] == "application/json"
