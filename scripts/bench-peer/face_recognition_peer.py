"""The peer a property manager would otherwise pick: Python face_recognition 1.3.0 on dlib (dlib-bin wheel).

Usage: python face_recognition_peer.py FRAMES_DIR RUNS
Runs the same work as optgate's throughput row on the same JPEG frames: decode, detect (face_recognition's
default HOG detector, default upsampling), embed the largest face (5-point landmarks + the same dlib ResNet),
one thread. Prints the frames per second as the last line: "fps N".
"""
import os
import sys
import time

import face_recognition
import numpy
from PIL import Image


def main():
    frames_dir, runs = sys.argv[1], int(sys.argv[2])
    paths = sorted(os.path.join(frames_dir, name) for name in os.listdir(frames_dir) if name.endswith(".jpg"))

    def work(path):
        image = numpy.asarray(Image.open(path).convert("RGB"))
        boxes = face_recognition.face_locations(image)
        if boxes:
            largest = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
            face_recognition.face_encodings(image, known_face_locations=[largest], model="small")

    work(paths[0])  # warm-up
    start = time.perf_counter()
    for run in range(runs):
        work(paths[run % len(paths)])
    elapsed = time.perf_counter() - start
    print("fps %.2f" % (runs / elapsed))


if __name__ == "__main__":
    main()
