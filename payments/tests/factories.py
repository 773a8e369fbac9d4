import factory

from accounts.tests.factories import TutorFactory, UserFactory
from courses.models import Curriculum, CurriculumCourse
from courses.tests.factories import CourseFactory
from payments.models import BillingAddress


class CurriculumFactory(factory.django.DjangoModelFactory[Curriculum]):
    """Published, priced, bundling `courses` (a list of Course) in that order; one new course
    when not given (`courses=[]` makes an empty one)."""

    class Meta:
        model = Curriculum
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Curriculum {n}")
    price = 40000
    tutor = factory.SubFactory(TutorFactory)
    is_published = True

    @factory.post_generation
    def courses(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None:
            extracted = [CourseFactory()]
        for position, course in enumerate(extracted):
            CurriculumCourse.objects.create(curriculum=self, course=course, position=position)


class BillingAddressFactory(factory.django.DjangoModelFactory[BillingAddress]):
    class Meta:
        model = BillingAddress

    user = factory.SubFactory(UserFactory)
    name = "Kim Minji"
    phone = "010-1234-5678"
    line1 = "1 Teheran-ro, Gangnam-gu"
    postal_code = "06236"


__all__ = ["BillingAddressFactory", "CourseFactory", "CurriculumFactory"]
