"""Uploaded images (avatars, thumbnails): upload, list and delete one's own (API.md, Videos)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import FileTooLarge, InvalidImage
from core.files import public_url
from core.images import ImageUploadParser
from core.openapi import errors_of
from core.parsers import JSONParser
from core.throttles import ImageUploadThrottle
from videos.models import Image
from videos.selectors.images import image_get_own, image_list
from videos.services.images import image_create, image_delete

IMAGE_ID = OpenApiParameter("image_id", int, OpenApiParameter.PATH)


class ImageOutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Absolute URL of the stored file.")
    format = serializers.CharField(read_only=True, help_text="`webp` or `jpeg`.")
    size = serializers.IntegerField(read_only=True, help_text="Bytes as stored.")

    class Meta:
        model = Image
        fields = ("id", "url", "width", "height", "format", "size", "created_at")
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, image: Image) -> str:
        return public_url(image.file.url, self.context.get("request"))  # an image always has one


class ImageListCreateApi(ListAPIView):
    parser_classes = (ImageUploadParser, JSONParser)
    throttle_classes = (ImageUploadThrottle,)  # uploads only; listing is not counted
    serializer_class = ImageOutputSerializer
    queryset = Image.objects.none()  # for the schema

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(
            help_text="PNG, JPEG or WebP, judged by content; the name and type sent are ignored."
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return image_list(owner=self.request.user)

    @extend_schema(operation_id="images_list", responses={200: ImageOutputSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        """The caller's own images, newest first."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="images_create",
        request={"multipart/form-data": InputSerializer},
        responses={201: ImageOutputSerializer, **errors_of(InvalidImage, FileTooLarge)},
    )
    def post(self, request):
        """Upload an image. It is turned upright (EXIF orientation), stripped of metadata,
        shrunk to fit a box (IMAGE_MAX_BOX, 1600 px by default) and stored as WebP (or JPEG,
        per IMAGE_OUTPUT_FORMAT). At most IMAGE_MAX_UPLOAD_BYTES, and THROTTLE_IMAGE_UPLOAD
        uploads per user (course thumbnails count too)."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image = image_create(owner=request.user, file=serializer.validated_data["file"])
        return Response(self.get_serializer(image).data, status=status.HTTP_201_CREATED)


class ImageDetailApi(APIView):
    @extend_schema(
        operation_id="images_destroy",
        parameters=[IMAGE_ID],
        request=None,
        responses={
            204: OpenApiResponse(description="Deleted; the file is removed from storage."),
        },
    )
    def delete(self, request, image_id: int):
        image = image_get_own(owner=request.user, image_id=image_id)
        image_delete(image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)
