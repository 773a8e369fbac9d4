"""What can be sold: published courses and curriculums with a price, not already owned."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from courses.models import Course, Curriculum
from courses.selectors.enrollments import studyable_course_ids
from payments.errors import AlreadyOwned, NotForSale


@dataclass(frozen=True)
class ProductRef:
    """One product named by the client: exactly one of the two ids."""

    course_id: int | None = None
    curriculum_id: int | None = None

    @property
    def field(self) -> str:
        return "course" if self.course_id else "curriculum"


def products_for_sale(
    refs: list[ProductRef], *, field_prefix: str = ""
) -> list[Course | Curriculum]:
    """The products, in order, in two queries; NotForSale naming every unknown, unpublished or
    free one."""
    courses = Course.objects.filter(
        pk__in=[ref.course_id for ref in refs if ref.course_id], is_published=True, price__gt=0
    ).in_bulk()
    curriculums = (
        Curriculum.objects.filter(
            pk__in=[ref.curriculum_id for ref in refs if ref.curriculum_id],
            is_published=True,
            price__gt=0,
            courses__isnull=False,
        )
        .distinct()
        .prefetch_related("courses")
        .in_bulk()
    )
    products: list[Course | Curriculum] = []
    errors = {}
    for index, ref in enumerate(refs):
        product = (
            courses.get(ref.course_id) if ref.course_id else curriculums.get(ref.curriculum_id)
        )
        if product is None:
            key = f"{field_prefix}[{index}].{ref.field}" if field_prefix else ref.field
            errors[key] = [_("This item is not for sale.")]
        else:
            products.append(product)
    if errors:
        raise NotForSale(fields=errors)
    return products


def product_course_ids(product: Course | Curriculum) -> set[int]:
    if isinstance(product, Course):
        return {product.pk}
    return {course.pk for course in product.courses.all()}


def products_check_not_owned(*, user, products: list[Course | Curriculum]) -> None:
    """AlreadyOwned for a course the user can already study, or a curriculum whose every course
    they can (a curriculum partly owned may still be bought)."""
    wanted = set().union(*(product_course_ids(product) for product in products))
    owned = studyable_course_ids(user=user, course_ids=wanted)
    for product in products:
        course_ids = product_course_ids(product)
        if course_ids and course_ids <= owned:
            raise AlreadyOwned(title=product.title)
