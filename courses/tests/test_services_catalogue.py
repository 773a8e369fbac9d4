"""Who may write courses and curriculums, and what they may name, enforced by the services
themselves (no HTTP): the rules an attacker would try through any caller."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory
from courses.errors import TutorOrStaffOnly
from courses.models import Course, Curriculum, CurriculumCourse
from courses.permissions import user_can_edit, user_can_grade, user_can_write_catalogue
from courses.services.catalogue import (
    course_delete,
    course_save,
    course_thumbnail_set,
    curriculum_delete,
    curriculum_save,
)
from courses.tests.factories import CourseFactory

TREE = [{"title": "Basics", "topics": [{"title": "Welcome", "type": "article"}]}]


def bundle(curriculum: Curriculum) -> list[int]:
    return list(
        CurriculumCourse.objects.filter(curriculum=curriculum)
        .order_by("position")
        .values_list("course_id", flat=True)
    )


@pytest.mark.django_db
class TestWhoMay:
    @pytest.mark.parametrize(
        ("who", "write", "edit_own", "edit_others", "grade_own"),
        [
            ("anonymous", False, False, False, False),
            ("student", False, False, False, False),
            ("tutor", True, True, False, True),
            ("former-tutor", False, False, False, True),
            ("staff", True, True, True, True),
        ],
    )
    def test_the_rules_in_one_place(self, who, write, edit_own, edit_others, grade_own):
        if who == "anonymous":
            user = AnonymousUser()
        elif who == "staff":
            user = StaffFactory()
        elif who == "student":
            user = UserFactory()
        else:
            user = TutorFactory()
        teaches = who in ("tutor", "former-tutor", "staff")
        own = CourseFactory(tutor=user if teaches else TutorFactory())
        if who == "former-tutor":
            user.role = "student"
            user.save()
        others = CourseFactory()

        assert user_can_write_catalogue(user) is write
        assert user_can_edit(user, own) is edit_own
        assert user_can_edit(user, others) is edit_others
        assert user_can_grade(user, own) is grade_own
        assert user_can_grade(user, others) is (who == "staff")


@pytest.mark.django_db
class TestCourseSave:
    def test_a_tutors_new_course_is_their_own(self, tutor):
        course = course_save(actor=tutor, data={"title": "Mine", "lectures": TREE})
        assert (course.tutor, course.title, course.lectures.count()) == (tutor, "Mine", 1)

    def test_a_tutor_naming_another_tutor_still_writes_their_own_course(self, tutor):
        victim = TutorFactory()

        course = course_save(actor=tutor, data={"title": "Planted", "tutor": victim})

        assert course.tutor == tutor
        assert not victim.courses_taught.exists()

    def test_staff_name_the_tutor_on_create_and_may_hand_a_course_over(self, tutor):
        staff, successor = StaffFactory(), TutorFactory()

        course = course_save(actor=staff, data={"title": "For a tutor", "tutor": tutor})
        assert course.tutor == tutor
        course_save(actor=staff, course=course, data={"tutor": successor})

        course.refresh_from_db()
        assert course.tutor == successor

    def test_a_tutor_edits_their_own_course(self, tutor):
        course = CourseFactory(tutor=tutor, price=100)

        course_save(actor=tutor, course=course, data={"price": 200, "lectures": TREE})

        course.refresh_from_db()
        assert (course.price, course.lectures.count()) == (200, 1)

    def test_a_tutor_cannot_edit_another_tutors_course(self, tutor):
        course = CourseFactory(price=100, title="Theirs")
        owner = course.tutor

        with pytest.raises(TutorOrStaffOnly) as caught:
            course_save(
                actor=tutor, course=course, data={"price": 0, "tutor": tutor, "lectures": TREE}
            )

        assert (caught.value.code, caught.value.status) == ("permission_denied", 403)
        assert caught.value.message == TutorOrStaffOnly.EDIT
        course.refresh_from_db()
        assert (course.price, course.title, course.tutor) == (100, "Theirs", owner)
        assert not course.lectures.exists()

    def test_a_tutor_who_is_no_longer_a_tutor_cannot_edit_their_course(self, tutor):
        course = CourseFactory(tutor=tutor, price=100)
        tutor.role = "student"
        tutor.save()

        with pytest.raises(TutorOrStaffOnly):
            course_save(actor=tutor, course=course, data={"price": 0})

        course.refresh_from_db()
        assert course.price == 100

    def test_staff_edit_any_course(self):
        course = CourseFactory(price=100)
        course_save(actor=StaffFactory(), course=course, data={"price": 5})
        course.refresh_from_db()
        assert course.price == 5

    def test_a_student_cannot_create_a_course(self, user):
        with pytest.raises(TutorOrStaffOnly):
            course_save(actor=user, data={"title": "Sneaky"})
        assert not Course.objects.exists()

    def test_a_tutor_cannot_delete_or_reskin_another_tutors_course(self, tutor):
        course = CourseFactory()

        with pytest.raises(TutorOrStaffOnly):
            course_delete(actor=tutor, course=course)
        with pytest.raises(TutorOrStaffOnly):
            course_thumbnail_set(actor=tutor, course=course, file=None)

        assert Course.objects.filter(pk=course.pk).exists()

    def test_the_tutor_deletes_their_own_course(self, tutor):
        course = CourseFactory(tutor=tutor)
        course_delete(actor=tutor, course=course)
        assert not Course.objects.exists()


@pytest.mark.django_db
class TestCurriculumSave:
    def test_a_tutor_bundles_their_own_courses_in_order(self, tutor):
        first, second = CourseFactory(tutor=tutor), CourseFactory(tutor=tutor)

        curriculum = curriculum_save(
            actor=tutor, data={"title": "Track"}, course_ids=[second.pk, first.pk]
        )

        assert curriculum.tutor == tutor
        assert bundle(curriculum) == [second.pk, first.pk]

    @pytest.mark.parametrize("attack", ["another-tutors-course", "unknown-id", "repeated-id"])
    def test_a_bundle_naming_what_is_not_the_tutors_own_once_is_refused(self, tutor, attack):
        mine = CourseFactory(tutor=tutor)
        ids = {
            "another-tutors-course": [mine.pk, CourseFactory().pk],
            "unknown-id": [mine.pk, 999_999],
            "repeated-id": [mine.pk, mine.pk],
        }[attack]

        with pytest.raises(ValidationError) as caught:
            curriculum_save(actor=tutor, data={"title": "Track"}, course_ids=ids)

        assert list(caught.value.message_dict) == ["course_ids"]
        assert not Curriculum.objects.exists()

    def test_an_update_naming_another_tutors_course_changes_nothing(self, tutor):
        mine = CourseFactory(tutor=tutor)
        curriculum = curriculum_save(actor=tutor, data={"title": "Track"}, course_ids=[mine.pk])

        with pytest.raises(ValidationError):
            curriculum_save(
                actor=tutor,
                curriculum=curriculum,
                data={"title": "Hijack"},
                course_ids=[CourseFactory().pk],
            )

        curriculum.refresh_from_db()
        assert (curriculum.title, bundle(curriculum)) == ("Track", [mine.pk])

    def test_staff_bundle_any_course(self):
        courses = CourseFactory.create_batch(2)
        curriculum = curriculum_save(
            actor=StaffFactory(), data={"title": "T"}, course_ids=[c.pk for c in courses]
        )
        assert bundle(curriculum) == [c.pk for c in courses]

    def test_an_update_without_course_ids_keeps_the_bundle(self, tutor):
        course = CourseFactory(tutor=tutor)
        curriculum = curriculum_save(actor=tutor, data={"title": "T"}, course_ids=[course.pk])
        curriculum_save(actor=tutor, curriculum=curriculum, data={"price": 10})
        assert bundle(curriculum) == [course.pk]

    def test_a_tutor_cannot_edit_or_delete_another_tutors_curriculum(self, tutor):
        owner = TutorFactory()
        curriculum = curriculum_save(actor=owner, data={"title": "Theirs"})

        with pytest.raises(TutorOrStaffOnly):
            curriculum_save(actor=tutor, curriculum=curriculum, data={"title": "Mine now"})
        with pytest.raises(TutorOrStaffOnly):
            curriculum_delete(actor=tutor, curriculum=curriculum)

        curriculum.refresh_from_db()
        assert (curriculum.title, curriculum.tutor) == ("Theirs", owner)

    def test_a_student_cannot_create_a_curriculum(self, user):
        with pytest.raises(TutorOrStaffOnly):
            curriculum_save(actor=user, data={"title": "T"})
        assert not Curriculum.objects.exists()
