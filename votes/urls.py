from django.urls import path

from votes.apis import candidates, polls

urlpatterns = [
    path("polls/", polls.PollListCreateApi.as_view(), name="polls"),
    path("polls/<int:poll_id>/", polls.PollDetailApi.as_view(), name="poll-detail"),
    path(
        "polls/<int:poll_id>/candidates/",
        candidates.CandidateCreateApi.as_view(),
        name="poll-candidates",
    ),
    path(
        "polls/<int:poll_id>/candidates/<int:candidate_id>/accept/",
        candidates.NominationAcceptApi.as_view(),
        name="poll-candidate-accept",
    ),
    path(
        "polls/<int:poll_id>/candidates/<int:candidate_id>/decline/",
        candidates.NominationDeclineApi.as_view(),
        name="poll-candidate-decline",
    ),
    path("me/nominations/", candidates.NominationListApi.as_view(), name="me-nominations"),
    path("polls/<int:poll_id>/votes/", polls.VoteCastApi.as_view(), name="poll-votes"),
    path("polls/<int:poll_id>/results/", polls.PollResultsApi.as_view(), name="poll-results"),
    path(
        "polls/<int:poll_id>/candidates/<int:candidate_id>/voters/",
        polls.CandidateVotersApi.as_view(),
        name="poll-candidate-voters",
    ),
]
