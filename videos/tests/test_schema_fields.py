"""The fields videos adds to users and topics are typed in the schema, not free-form objects."""

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def components():
    return SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


def _field(components, component: str, name: str) -> dict:
    return components[component]["properties"][name]


def test_the_avatar_of_the_signed_in_user_is_an_id_and_a_url(components):
    avatars = [
        _field(components, name, "avatar")
        for name, component in components.items()
        if "avatar" in component.get("properties", {})
        and component["properties"]["avatar"].get("readOnly")
    ]
    assert avatars
    for avatar in avatars:
        assert avatar["allOf"] == [{"$ref": "#/components/schemas/Avatar"}]
        assert avatar["nullable"] is True
    assert set(components["Avatar"]["properties"]) == {"id", "url"}


def test_a_topics_video_has_its_id_duration_and_type(components):
    videos = [
        component["properties"]["video"]
        for component in components.values()
        if "video" in component.get("properties", {})
        and "allOf" in component["properties"]["video"]
    ]
    assert videos
    assert all(v["allOf"] == [{"$ref": "#/components/schemas/TopicVideo"}] for v in videos)
    video = components["TopicVideo"]
    assert set(video["properties"]) == {"id", "duration", "content_type"}
    assert video["properties"]["duration"]["nullable"] is True
