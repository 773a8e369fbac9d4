"""Courses: the size of a course tree, quizzes and assignment uploads."""

from config.settings.environment import env

# The largest course tree one request may write (POST/PUT/PATCH /api/courses/): a bigger body is
# a 400 naming the path. Topics and questions count over the whole course.
COURSE_MAX_LECTURES = env.int("COURSE_MAX_LECTURES", default=100)
COURSE_MAX_TOPICS = env.int("COURSE_MAX_TOPICS", default=1000)
COURSE_MAX_QUESTIONS = env.int("COURSE_MAX_QUESTIONS", default=2000)
QUIZ_MAX_QUESTIONS = env.int("QUIZ_MAX_QUESTIONS", default=100)

# How long the catalogue's shared answers (the course list, published outlines) are kept in the
# cache; every write drops them at once anyway (courses.catalogue_cache). 0 turns the cache off.
CATALOGUE_CACHE_SECONDS = env.int("CATALOGUE_CACHE_SECONDS", default=300)

# Attempts per learner per quiz (0 = unlimited); a pass scores at least this percent.
QUIZ_MAX_ATTEMPTS = env.int("QUIZ_MAX_ATTEMPTS", default=3)
QUIZ_PASS_PERCENT = env.int("QUIZ_PASS_PERCENT", default=60)
# Assignment uploads: size cap, and the types accepted (each is also checked by content).
SUBMISSION_MAX_FILE_BYTES = env.int("SUBMISSION_MAX_FILE_BYTES", default=10 * 1024 * 1024)
SUBMISSION_ALLOWED_EXTENSIONS = env.list(
    "SUBMISSION_ALLOWED_EXTENSIONS",
    default=["pdf", "zip", "txt", "md", "png", "jpg", "jpeg", "py", "ipynb"],
)
